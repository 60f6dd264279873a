// Original file: proto/fedseq.proto


export interface PresenceRequest {
  'genes'?: (string)[];
}

export interface PresenceRequest__Output {
  'genes': (string)[];
}
