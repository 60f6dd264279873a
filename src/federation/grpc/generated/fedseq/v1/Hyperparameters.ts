// Original file: proto/fedseq.proto


export interface Hyperparameters {
  'minMu'?: (number | string);
  'betaTol'?: (number | string);
  'maxBeta'?: (number | string);
  'irlsNumIter'?: (number);
  'pqnC1'?: (number | string);
  'pqnFtol'?: (number | string);
  'pqnNumItersLs'?: (number);
  'pqnNumIters'?: (number);
  'pqnMinMu'?: (number | string);
}

export interface Hyperparameters__Output {
  'minMu': (number);
  'betaTol': (number);
  'maxBeta': (number);
  'irlsNumIter': (number);
  'pqnC1': (number);
  'pqnFtol': (number);
  'pqnNumItersLs': (number);
  'pqnNumIters': (number);
  'pqnMinMu': (number);
}
