// Original file: proto/fedseq.proto


export interface KeyRequest {
  'runId'?: (string);
  'centers'?: (string)[];
  'epoch'?: (number);
}

export interface KeyRequest__Output {
  'runId': (string);
  'centers': (string)[];
  'epoch': (number);
}
