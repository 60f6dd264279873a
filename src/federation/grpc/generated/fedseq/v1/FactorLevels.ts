// Original file: proto/fedseq.proto


export interface FactorLevels {
  'factor'?: (string);
  'levels'?: (string)[];
}

export interface FactorLevels__Output {
  'factor': (string);
  'levels': (string)[];
}
