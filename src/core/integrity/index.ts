export * from './digest';
export * from './crc32c';
export * from './digest-headers';
export * from './checksum-file';
export * from './discovery';
export * from './multi-hash';
export * from './verify';
