// Original file: proto/fedseq.proto


export interface Welcome {
  'runId'?: (string);
  'plan'?: (string);
  'secureAggregation'?: (boolean);
}

export interface Welcome__Output {
  'runId': (string);
  'plan': (string);
  'secureAggregation': (boolean);
}
