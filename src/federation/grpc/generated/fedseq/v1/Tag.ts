// Original file: proto/fedseq.proto


export interface Tag {
  'runId'?: (string);
  'phase'?: (string);
  'round'?: (number);
}

export interface Tag__Output {
  'runId': (string);
  'phase': (string);
  'round': (number);
}
