// Original file: proto/fedseq.proto


export interface KeyAgreement {
  'runId'?: (string);
  'epoch'?: (number);
  'error'?: (string);
  'rejectedCenter'?: (string);
}

export interface KeyAgreement__Output {
  'runId': (string);
  'epoch': (number);
  'error': (string);
  'rejectedCenter': (string);
}
