// Original file: proto/fedseq.proto


export interface Shutdown {
  'success'?: (boolean);
  'message'?: (string);
}

export interface Shutdown__Output {
  'success': (boolean);
  'message': (string);
}
