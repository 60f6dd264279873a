// Original file: proto/fedseq.proto


export interface Tag {
  'runId'?: (string);
  'phase'?: (string);
  'round'?: (number);
  'plan'?: (string);
}

export interface Tag__Output {
  'runId': (string);
  'phase': (string);
  'round': (number);
  'plan': (string);
}
