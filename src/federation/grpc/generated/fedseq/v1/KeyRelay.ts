// Original file: proto/fedseq.proto

import type { KeyAnnouncement as _fedseq_v1_KeyAnnouncement, KeyAnnouncement__Output as _fedseq_v1_KeyAnnouncement__Output } from '../../fedseq/v1/KeyAnnouncement.js';

export interface KeyRelay {
  'runId'?: (string);
  'epoch'?: (number);
  'announcements'?: (_fedseq_v1_KeyAnnouncement)[];
}

export interface KeyRelay__Output {
  'runId': (string);
  'epoch': (number);
  'announcements': (_fedseq_v1_KeyAnnouncement__Output)[];
}
