// Original file: proto/fedseq.proto


export interface Float64Tensor {
  'shape'?: (number)[];
  'data'?: (Buffer | Uint8Array | string);
}

export interface Float64Tensor__Output {
  'shape': (number)[];
  'data': (Buffer);
}
