// Original file: proto/fedseq.proto

import type { Float64Tensor as _fedseq_v1_Float64Tensor, Float64Tensor__Output as _fedseq_v1_Float64Tensor__Output } from '../../fedseq/v1/Float64Tensor.js';
import type { BitMask as _fedseq_v1_BitMask, BitMask__Output as _fedseq_v1_BitMask__Output } from '../../fedseq/v1/BitMask.js';
import type { TextList as _fedseq_v1_TextList, TextList__Output as _fedseq_v1_TextList__Output } from '../../fedseq/v1/TextList.js';

export interface Record {
  'step'?: (string);
  'tensors'?: ({[key: string]: _fedseq_v1_Float64Tensor});
  'masks'?: ({[key: string]: _fedseq_v1_BitMask});
  'numbers'?: ({[key: string]: number | string});
  'booleans'?: ({[key: string]: boolean});
  'texts'?: ({[key: string]: string});
  'textLists'?: ({[key: string]: _fedseq_v1_TextList});
  'byteArrays'?: ({[key: string]: Buffer | Uint8Array | string});
  'counts'?: ({[key: string]: Buffer | Uint8Array | string});
  'masked'?: ({[key: string]: Buffer | Uint8Array | string});
  'authenticators'?: ({[key: string]: Buffer | Uint8Array | string});
}

export interface Record__Output {
  'step': (string);
  'tensors': ({[key: string]: _fedseq_v1_Float64Tensor__Output});
  'masks': ({[key: string]: _fedseq_v1_BitMask__Output});
  'numbers': ({[key: string]: number});
  'booleans': ({[key: string]: boolean});
  'texts': ({[key: string]: string});
  'textLists': ({[key: string]: _fedseq_v1_TextList__Output});
  'byteArrays': ({[key: string]: Buffer});
  'counts': ({[key: string]: Buffer});
  'masked': ({[key: string]: Buffer});
  'authenticators': ({[key: string]: Buffer});
}
