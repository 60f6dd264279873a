// Original file: proto/fedseq.proto


export interface InitRequest {
  'refit'?: (boolean);
}

export interface InitRequest__Output {
  'refit': (boolean);
}
