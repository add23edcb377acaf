import * as mqtt from 'mqtt';
import { EventQueue, parseEUI64, type EUI64, type EventWatch, type NetworkServerEvent } from '@joinery/core';
import type { TTSOptions } from './tts-options';
import { ttsDeviceID } from './tts-versions';

/**
 * TTS MQTT: `v3/{user}/devices/{device_id}/{join|up}`, where the user name is the bare
 * application id on open-source TTS and `{app}@{tenant}` on TTS Cloud / Enterprise; the
 * password is the API key (it needs the "read application traffic" right). Payloads are TTS
 * ApplicationUp JSON: `end_device_ids`, `received_at`, `uplink_message.{f_cnt,f_port,frm_payload}`,
 * `join_accept`.
 */
export function watchTTS(o: TTSOptions, devEUIs: readonly EUI64[]): EventWatch {
  if (!o.mqttUrl) throw new Error('the-things-stack watch: no MQTT server configured (option mqttUrl)');
  const user = o.tenantId === null ? o.applicationId : `${o.applicationId}@${o.tenantId}`;
  const base = `${o.mqttTopicPrefix}/${user}/devices`;
  const ids = devEUIs.length === 0 ? ['+'] : devEUIs.map(ttsDeviceID);
  const topics = ids.flatMap((id) => [`${base}/${id}/join`, `${base}/${id}/up`]);
  const client = mqtt.connect(o.mqttUrl, { username: user, password: o.apiKey, reconnectPeriod: 1000, connectTimeout: 10_000 });
  const queue = new EventQueue(() => new Promise<void>((resolve) => client.end(false, {}, () => resolve())));
  client.once('connect', () => client.subscribe(topics, { qos: 0 }, (err) => (err ? queue.fail(err) : queue.markReady())));
  client.on('error', (err) => queue.fail(new Error(`the-things-stack MQTT: ${err.message}`)));
  client.on('message', (topic, payload) => {
    const e = parseEvent(base, topic, payload);
    if (e) queue.push(e);
  });
  return queue;
}

function parseEvent(base: string, topic: string, payload: Buffer): NetworkServerEvent | null {
  if (!topic.startsWith(`${base}/`)) return null;
  const [deviceID, kind, ...rest] = topic.slice(base.length + 1).split('/');
  if ((kind !== 'join' && kind !== 'up') || rest.length > 0 || !deviceID) return null;
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(payload.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  const ids = body['end_device_ids'] as Record<string, unknown> | undefined;
  let devEUI: EUI64;
  try {
    devEUI = parseEUI64(ids?.['dev_eui'] ?? (deviceID.startsWith('eui-') ? deviceID.slice(4) : undefined));
  } catch {
    return null;
  }
  const at = new Date(typeof body['received_at'] === 'string' ? body['received_at'] : Date.now());
  const up = body['uplink_message'] as Record<string, unknown> | undefined;
  const devAddr = ids?.['dev_addr'];
  return {
    kind,
    devEUI,
    at: Number.isNaN(at.getTime()) ? new Date() : at,
    topic,
    ...(typeof up?.['f_cnt'] === 'number' ? { fCnt: up['f_cnt'] } : {}),
    ...(typeof up?.['f_port'] === 'number' ? { fPort: up['f_port'] } : {}),
    ...(typeof up?.['frm_payload'] === 'string' ? { payload: Buffer.from(up['frm_payload'], 'base64') } : {}),
    ...(typeof devAddr === 'string' ? { devAddr: devAddr.toLowerCase() } : {}),
  };
}
