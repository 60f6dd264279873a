// Original file: proto/fedseq.proto


export interface Refusal {
  'center'?: (string);
  'reason'?: (string);
}

export interface Refusal__Output {
  'center': (string);
  'reason': (string);
}
