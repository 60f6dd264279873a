import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AggregatorMessage as _fedseq_v1_AggregatorMessage, AggregatorMessage__Output as _fedseq_v1_AggregatorMessage__Output } from './fedseq/v1/AggregatorMessage.js';
import type { BitMask as _fedseq_v1_BitMask, BitMask__Output as _fedseq_v1_BitMask__Output } from './fedseq/v1/BitMask.js';
import type { CenterMessage as _fedseq_v1_CenterMessage, CenterMessage__Output as _fedseq_v1_CenterMessage__Output } from './fedseq/v1/CenterMessage.js';
import type { FactorLevels as _fedseq_v1_FactorLevels, FactorLevels__Output as _fedseq_v1_FactorLevels__Output } from './fedseq/v1/FactorLevels.js';
import type { FederationClient as _fedseq_v1_FederationClient, FederationDefinition as _fedseq_v1_FederationDefinition } from './fedseq/v1/Federation.js';
import type { Float64Tensor as _fedseq_v1_Float64Tensor, Float64Tensor__Output as _fedseq_v1_Float64Tensor__Output } from './fedseq/v1/Float64Tensor.js';
import type { Hello as _fedseq_v1_Hello, Hello__Output as _fedseq_v1_Hello__Output } from './fedseq/v1/Hello.js';
import type { Hyperparameters as _fedseq_v1_Hyperparameters, Hyperparameters__Output as _fedseq_v1_Hyperparameters__Output } from './fedseq/v1/Hyperparameters.js';
import type { InitRequest as _fedseq_v1_InitRequest, InitRequest__Output as _fedseq_v1_InitRequest__Output } from './fedseq/v1/InitRequest.js';
import type { InitShare as _fedseq_v1_InitShare, InitShare__Output as _fedseq_v1_InitShare__Output } from './fedseq/v1/InitShare.js';
import type { IrlsShare as _fedseq_v1_IrlsShare, IrlsShare__Output as _fedseq_v1_IrlsShare__Output } from './fedseq/v1/IrlsShare.js';
import type { IrlsState as _fedseq_v1_IrlsState, IrlsState__Output as _fedseq_v1_IrlsState__Output } from './fedseq/v1/IrlsState.js';
import type { LevelsRequest as _fedseq_v1_LevelsRequest, LevelsRequest__Output as _fedseq_v1_LevelsRequest__Output } from './fedseq/v1/LevelsRequest.js';
import type { LevelsShare as _fedseq_v1_LevelsShare, LevelsShare__Output as _fedseq_v1_LevelsShare__Output } from './fedseq/v1/LevelsShare.js';
import type { NewtonShare as _fedseq_v1_NewtonShare, NewtonShare__Output as _fedseq_v1_NewtonShare__Output } from './fedseq/v1/NewtonShare.js';
import type { NewtonState as _fedseq_v1_NewtonState, NewtonState__Output as _fedseq_v1_NewtonState__Output } from './fedseq/v1/NewtonState.js';
import type { PqnShare as _fedseq_v1_PqnShare, PqnShare__Output as _fedseq_v1_PqnShare__Output } from './fedseq/v1/PqnShare.js';
import type { PqnState as _fedseq_v1_PqnState, PqnState__Output as _fedseq_v1_PqnState__Output } from './fedseq/v1/PqnState.js';
import type { PrepareRequest as _fedseq_v1_PrepareRequest, PrepareRequest__Output as _fedseq_v1_PrepareRequest__Output } from './fedseq/v1/PrepareRequest.js';
import type { PrepareShare as _fedseq_v1_PrepareShare, PrepareShare__Output as _fedseq_v1_PrepareShare__Output } from './fedseq/v1/PrepareShare.js';
import type { PresenceRequest as _fedseq_v1_PresenceRequest, PresenceRequest__Output as _fedseq_v1_PresenceRequest__Output } from './fedseq/v1/PresenceRequest.js';
import type { PresenceShare as _fedseq_v1_PresenceShare, PresenceShare__Output as _fedseq_v1_PresenceShare__Output } from './fedseq/v1/PresenceShare.js';
import type { Record as _fedseq_v1_Record, Record__Output as _fedseq_v1_Record__Output } from './fedseq/v1/Record.js';
import type { Refusal as _fedseq_v1_Refusal, Refusal__Output as _fedseq_v1_Refusal__Output } from './fedseq/v1/Refusal.js';
import type { Shutdown as _fedseq_v1_Shutdown, Shutdown__Output as _fedseq_v1_Shutdown__Output } from './fedseq/v1/Shutdown.js';
import type { StepError as _fedseq_v1_StepError, StepError__Output as _fedseq_v1_StepError__Output } from './fedseq/v1/StepError.js';
import type { StepReply as _fedseq_v1_StepReply, StepReply__Output as _fedseq_v1_StepReply__Output } from './fedseq/v1/StepReply.js';
import type { StepRequest as _fedseq_v1_StepRequest, StepRequest__Output as _fedseq_v1_StepRequest__Output } from './fedseq/v1/StepRequest.js';
import type { Tag as _fedseq_v1_Tag, Tag__Output as _fedseq_v1_Tag__Output } from './fedseq/v1/Tag.js';
import type { TextList as _fedseq_v1_TextList, TextList__Output as _fedseq_v1_TextList__Output } from './fedseq/v1/TextList.js';
import type { Welcome as _fedseq_v1_Welcome, Welcome__Output as _fedseq_v1_Welcome__Output } from './fedseq/v1/Welcome.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  fedseq: {
    v1: {
      AggregatorMessage: MessageTypeDefinition<_fedseq_v1_AggregatorMessage, _fedseq_v1_AggregatorMessage__Output>
      BitMask: MessageTypeDefinition<_fedseq_v1_BitMask, _fedseq_v1_BitMask__Output>
      CenterMessage: MessageTypeDefinition<_fedseq_v1_CenterMessage, _fedseq_v1_CenterMessage__Output>
      FactorLevels: MessageTypeDefinition<_fedseq_v1_FactorLevels, _fedseq_v1_FactorLevels__Output>
      Federation: SubtypeConstructor<typeof grpc.Client, _fedseq_v1_FederationClient> & { service: _fedseq_v1_FederationDefinition }
      Float64Tensor: MessageTypeDefinition<_fedseq_v1_Float64Tensor, _fedseq_v1_Float64Tensor__Output>
      Hello: MessageTypeDefinition<_fedseq_v1_Hello, _fedseq_v1_Hello__Output>
      Hyperparameters: MessageTypeDefinition<_fedseq_v1_Hyperparameters, _fedseq_v1_Hyperparameters__Output>
      InitRequest: MessageTypeDefinition<_fedseq_v1_InitRequest, _fedseq_v1_InitRequest__Output>
      InitShare: MessageTypeDefinition<_fedseq_v1_InitShare, _fedseq_v1_InitShare__Output>
      IrlsShare: MessageTypeDefinition<_fedseq_v1_IrlsShare, _fedseq_v1_IrlsShare__Output>
      IrlsState: MessageTypeDefinition<_fedseq_v1_IrlsState, _fedseq_v1_IrlsState__Output>
      LevelsRequest: MessageTypeDefinition<_fedseq_v1_LevelsRequest, _fedseq_v1_LevelsRequest__Output>
      LevelsShare: MessageTypeDefinition<_fedseq_v1_LevelsShare, _fedseq_v1_LevelsShare__Output>
      NewtonShare: MessageTypeDefinition<_fedseq_v1_NewtonShare, _fedseq_v1_NewtonShare__Output>
      NewtonState: MessageTypeDefinition<_fedseq_v1_NewtonState, _fedseq_v1_NewtonState__Output>
      PqnShare: MessageTypeDefinition<_fedseq_v1_PqnShare, _fedseq_v1_PqnShare__Output>
      PqnState: MessageTypeDefinition<_fedseq_v1_PqnState, _fedseq_v1_PqnState__Output>
      PrepareRequest: MessageTypeDefinition<_fedseq_v1_PrepareRequest, _fedseq_v1_PrepareRequest__Output>
      PrepareShare: MessageTypeDefinition<_fedseq_v1_PrepareShare, _fedseq_v1_PrepareShare__Output>
      PresenceRequest: MessageTypeDefinition<_fedseq_v1_PresenceRequest, _fedseq_v1_PresenceRequest__Output>
      PresenceShare: MessageTypeDefinition<_fedseq_v1_PresenceShare, _fedseq_v1_PresenceShare__Output>
      Record: MessageTypeDefinition<_fedseq_v1_Record, _fedseq_v1_Record__Output>
      Refusal: MessageTypeDefinition<_fedseq_v1_Refusal, _fedseq_v1_Refusal__Output>
      Shutdown: MessageTypeDefinition<_fedseq_v1_Shutdown, _fedseq_v1_Shutdown__Output>
      StepError: MessageTypeDefinition<_fedseq_v1_StepError, _fedseq_v1_StepError__Output>
      StepReply: MessageTypeDefinition<_fedseq_v1_StepReply, _fedseq_v1_StepReply__Output>
      StepRequest: MessageTypeDefinition<_fedseq_v1_StepRequest, _fedseq_v1_StepRequest__Output>
      Tag: MessageTypeDefinition<_fedseq_v1_Tag, _fedseq_v1_Tag__Output>
      TextList: MessageTypeDefinition<_fedseq_v1_TextList, _fedseq_v1_TextList__Output>
      Welcome: MessageTypeDefinition<_fedseq_v1_Welcome, _fedseq_v1_Welcome__Output>
    }
  }
}

