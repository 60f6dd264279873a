// Original file: proto/fedseq.proto

import type { Tag as _fedseq_v1_Tag, Tag__Output as _fedseq_v1_Tag__Output } from '../../fedseq/v1/Tag.js';
import type { PresenceRequest as _fedseq_v1_PresenceRequest, PresenceRequest__Output as _fedseq_v1_PresenceRequest__Output } from '../../fedseq/v1/PresenceRequest.js';
import type { LevelsRequest as _fedseq_v1_LevelsRequest, LevelsRequest__Output as _fedseq_v1_LevelsRequest__Output } from '../../fedseq/v1/LevelsRequest.js';
import type { PrepareRequest as _fedseq_v1_PrepareRequest, PrepareRequest__Output as _fedseq_v1_PrepareRequest__Output } from '../../fedseq/v1/PrepareRequest.js';
import type { InitRequest as _fedseq_v1_InitRequest, InitRequest__Output as _fedseq_v1_InitRequest__Output } from '../../fedseq/v1/InitRequest.js';
import type { IrlsState as _fedseq_v1_IrlsState, IrlsState__Output as _fedseq_v1_IrlsState__Output } from '../../fedseq/v1/IrlsState.js';
import type { PqnState as _fedseq_v1_PqnState, PqnState__Output as _fedseq_v1_PqnState__Output } from '../../fedseq/v1/PqnState.js';
import type { NewtonState as _fedseq_v1_NewtonState, NewtonState__Output as _fedseq_v1_NewtonState__Output } from '../../fedseq/v1/NewtonState.js';
import type { Record as _fedseq_v1_Record, Record__Output as _fedseq_v1_Record__Output } from '../../fedseq/v1/Record.js';

export interface StepRequest {
  'tag'?: (_fedseq_v1_Tag | null);
  'presence'?: (_fedseq_v1_PresenceRequest | null);
  'levels'?: (_fedseq_v1_LevelsRequest | null);
  'prepare'?: (_fedseq_v1_PrepareRequest | null);
  'init'?: (_fedseq_v1_InitRequest | null);
  'irls'?: (_fedseq_v1_IrlsState | null);
  'pqn'?: (_fedseq_v1_PqnState | null);
  'newton'?: (_fedseq_v1_NewtonState | null);
  'record'?: (_fedseq_v1_Record | null);
  'step'?: "presence"|"levels"|"prepare"|"init"|"irls"|"pqn"|"newton"|"record";
}

export interface StepRequest__Output {
  'tag': (_fedseq_v1_Tag__Output | null);
  'presence'?: (_fedseq_v1_PresenceRequest__Output | null);
  'levels'?: (_fedseq_v1_LevelsRequest__Output | null);
  'prepare'?: (_fedseq_v1_PrepareRequest__Output | null);
  'init'?: (_fedseq_v1_InitRequest__Output | null);
  'irls'?: (_fedseq_v1_IrlsState__Output | null);
  'pqn'?: (_fedseq_v1_PqnState__Output | null);
  'newton'?: (_fedseq_v1_NewtonState__Output | null);
  'record'?: (_fedseq_v1_Record__Output | null);
  'step'?: "presence"|"levels"|"prepare"|"init"|"irls"|"pqn"|"newton"|"record";
}
