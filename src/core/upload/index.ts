/** Uploads: protocol detection and the tus / IETF draft / partial PUT / plain PUT uploaders behind one task. */
export * from './protocol';
export * from './headers';
export * from './detect';
export * from './fingerprint';
export { TusUploader, TUS_CHECKSUM_CHUNK } from './tus';
export { IetfUploader, contentDispositionFor, isOurUploadResumption } from './ietf';
export * from './ietf-versions';
export { PutRangeUploader, PUT_RANGE_CHUNK } from './put-range';
export { PlainPutUploader } from './plain-put';
export * from './task';
