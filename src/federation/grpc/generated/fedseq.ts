import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AggregatorMessage as _fedseq_v1_AggregatorMessage, AggregatorMessage__Output as _fedseq_v1_AggregatorMessage__Output } from './fedseq/v1/AggregatorMessage.js';
import type { BitMask as _fedseq_v1_BitMask, BitMask__Output as _fedseq_v1_BitMask__Output } from './fedseq/v1/BitMask.js';
import type { CenterMessage as _fedseq_v1_CenterMessage, CenterMessage__Output as _fedseq_v1_CenterMessage__Output } from './fedseq/v1/CenterMessage.js';
import type { Evidence as _fedseq_v1_Evidence, Evidence__Output as _fedseq_v1_Evidence__Output } from './fedseq/v1/Evidence.js';
import type { FederationClient as _fedseq_v1_FederationClient, FederationDefinition as _fedseq_v1_FederationDefinition } from './fedseq/v1/Federation.js';
import type { Float64Tensor as _fedseq_v1_Float64Tensor, Float64Tensor__Output as _fedseq_v1_Float64Tensor__Output } from './fedseq/v1/Float64Tensor.js';
import type { Hello as _fedseq_v1_Hello, Hello__Output as _fedseq_v1_Hello__Output } from './fedseq/v1/Hello.js';
import type { KeyAgreement as _fedseq_v1_KeyAgreement, KeyAgreement__Output as _fedseq_v1_KeyAgreement__Output } from './fedseq/v1/KeyAgreement.js';
import type { KeyAnnouncement as _fedseq_v1_KeyAnnouncement, KeyAnnouncement__Output as _fedseq_v1_KeyAnnouncement__Output } from './fedseq/v1/KeyAnnouncement.js';
import type { KeyRelay as _fedseq_v1_KeyRelay, KeyRelay__Output as _fedseq_v1_KeyRelay__Output } from './fedseq/v1/KeyRelay.js';
import type { KeyRequest as _fedseq_v1_KeyRequest, KeyRequest__Output as _fedseq_v1_KeyRequest__Output } from './fedseq/v1/KeyRequest.js';
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
      Evidence: MessageTypeDefinition<_fedseq_v1_Evidence, _fedseq_v1_Evidence__Output>
      Federation: SubtypeConstructor<typeof grpc.Client, _fedseq_v1_FederationClient> & { service: _fedseq_v1_FederationDefinition }
      Float64Tensor: MessageTypeDefinition<_fedseq_v1_Float64Tensor, _fedseq_v1_Float64Tensor__Output>
      Hello: MessageTypeDefinition<_fedseq_v1_Hello, _fedseq_v1_Hello__Output>
      KeyAgreement: MessageTypeDefinition<_fedseq_v1_KeyAgreement, _fedseq_v1_KeyAgreement__Output>
      KeyAnnouncement: MessageTypeDefinition<_fedseq_v1_KeyAnnouncement, _fedseq_v1_KeyAnnouncement__Output>
      KeyRelay: MessageTypeDefinition<_fedseq_v1_KeyRelay, _fedseq_v1_KeyRelay__Output>
      KeyRequest: MessageTypeDefinition<_fedseq_v1_KeyRequest, _fedseq_v1_KeyRequest__Output>
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

