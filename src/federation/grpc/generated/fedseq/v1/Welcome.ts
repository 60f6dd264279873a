// Original file: proto/fedseq.proto


export interface Welcome {
  'runId'?: (string);
}

export interface Welcome__Output {
  'runId': (string);
}
