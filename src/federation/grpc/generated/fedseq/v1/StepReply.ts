// Original file: proto/fedseq.proto

import type { Tag as _fedseq_v1_Tag, Tag__Output as _fedseq_v1_Tag__Output } from '../../fedseq/v1/Tag.js';
import type { PresenceShare as _fedseq_v1_PresenceShare, PresenceShare__Output as _fedseq_v1_PresenceShare__Output } from '../../fedseq/v1/PresenceShare.js';
import type { LevelsShare as _fedseq_v1_LevelsShare, LevelsShare__Output as _fedseq_v1_LevelsShare__Output } from '../../fedseq/v1/LevelsShare.js';
import type { PrepareShare as _fedseq_v1_PrepareShare, PrepareShare__Output as _fedseq_v1_PrepareShare__Output } from '../../fedseq/v1/PrepareShare.js';
import type { InitShare as _fedseq_v1_InitShare, InitShare__Output as _fedseq_v1_InitShare__Output } from '../../fedseq/v1/InitShare.js';
import type { IrlsShare as _fedseq_v1_IrlsShare, IrlsShare__Output as _fedseq_v1_IrlsShare__Output } from '../../fedseq/v1/IrlsShare.js';
import type { PqnShare as _fedseq_v1_PqnShare, PqnShare__Output as _fedseq_v1_PqnShare__Output } from '../../fedseq/v1/PqnShare.js';
import type { NewtonShare as _fedseq_v1_NewtonShare, NewtonShare__Output as _fedseq_v1_NewtonShare__Output } from '../../fedseq/v1/NewtonShare.js';
import type { Record as _fedseq_v1_Record, Record__Output as _fedseq_v1_Record__Output } from '../../fedseq/v1/Record.js';
import type { StepError as _fedseq_v1_StepError, StepError__Output as _fedseq_v1_StepError__Output } from '../../fedseq/v1/StepError.js';

export interface StepReply {
  'tag'?: (_fedseq_v1_Tag | null);
  'presence'?: (_fedseq_v1_PresenceShare | null);
  'levels'?: (_fedseq_v1_LevelsShare | null);
  'prepare'?: (_fedseq_v1_PrepareShare | null);
  'init'?: (_fedseq_v1_InitShare | null);
  'irls'?: (_fedseq_v1_IrlsShare | null);
  'pqn'?: (_fedseq_v1_PqnShare | null);
  'newton'?: (_fedseq_v1_NewtonShare | null);
  'record'?: (_fedseq_v1_Record | null);
  'error'?: (_fedseq_v1_StepError | null);
  'step'?: "presence"|"levels"|"prepare"|"init"|"irls"|"pqn"|"newton"|"record"|"error";
}

export interface StepReply__Output {
  'tag': (_fedseq_v1_Tag__Output | null);
  'presence'?: (_fedseq_v1_PresenceShare__Output | null);
  'levels'?: (_fedseq_v1_LevelsShare__Output | null);
  'prepare'?: (_fedseq_v1_PrepareShare__Output | null);
  'init'?: (_fedseq_v1_InitShare__Output | null);
  'irls'?: (_fedseq_v1_IrlsShare__Output | null);
  'pqn'?: (_fedseq_v1_PqnShare__Output | null);
  'newton'?: (_fedseq_v1_NewtonShare__Output | null);
  'record'?: (_fedseq_v1_Record__Output | null);
  'error'?: (_fedseq_v1_StepError__Output | null);
  'step'?: "presence"|"levels"|"prepare"|"init"|"irls"|"pqn"|"newton"|"record"|"error";
}
