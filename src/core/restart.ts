/** Thrown inside an attempt when the file must start over from byte 0 with a plain GET. */
export class RestartNeeded extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Thrown when the server does not serve ranges well enough for several connections. */
export class SegmentationRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
