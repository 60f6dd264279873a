// Original file: proto/fedseq.proto


export interface LevelsRequest {
  'formula'?: (string);
}

export interface LevelsRequest__Output {
  'formula': (string);
}
