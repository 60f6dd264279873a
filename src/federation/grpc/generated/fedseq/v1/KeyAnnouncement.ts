// Original file: proto/fedseq.proto


export interface KeyAnnouncement {
  'runId'?: (string);
  'center'?: (string);
  'centers'?: (string)[];
  'publicKey'?: (string);
  'certificate'?: (string);
  'signature'?: (string);
  'epoch'?: (number);
}

export interface KeyAnnouncement__Output {
  'runId': (string);
  'center': (string);
  'centers': (string)[];
  'publicKey': (string);
  'certificate': (string);
  'signature': (string);
  'epoch': (number);
}
