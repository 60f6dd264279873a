// Original file: proto/fedseq.proto


export interface BitMask {
  'length'?: (number);
  'bits'?: (Buffer | Uint8Array | string);
}

export interface BitMask__Output {
  'length': (number);
  'bits': (Buffer);
}
