// Original file: proto/fedseq.proto


export interface StepError {
  'message'?: (string);
  'userError'?: (boolean);
}

export interface StepError__Output {
  'message': (string);
  'userError': (boolean);
}
