// Original file: proto/fedseq.proto


export interface TextList {
  'values'?: (string)[];
}

export interface TextList__Output {
  'values': (string)[];
}
