// Original file: proto/fedseq.proto


export interface Hello {
  'protocol'?: (number);
  'center'?: (string);
  'genes'?: (string)[];
  'samples'?: (string)[];
  'preparedRun'?: (string);
  'secureKey'?: (string);
  'requireSecureAggregation'?: (boolean);
}

export interface Hello__Output {
  'protocol': (number);
  'center': (string);
  'genes': (string)[];
  'samples': (string)[];
  'preparedRun': (string);
  'secureKey': (string);
  'requireSecureAggregation': (boolean);
}
