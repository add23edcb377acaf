import * as mqtt from 'mqtt';
import { EventQueue, parseEUI64, type EUI64, type EventWatch, type NetworkServerEvent } from '@joinery/core';
import type { ChirpStackOptions } from './chirpstack-options';

/**
 * ChirpStack's MQTT integration: `{prefix}/{application_id}/device/{dev_eui}/event/{join|up}`
 * (prefix "application" with ChirpStack's default event_topic), JSON payloads (protobuf JSON:
 * `deviceInfo.devEui`, `devAddr`, `fCnt`, `fPort`, `data` base64, `time`).
 */
export function watchChirpStack(o: ChirpStackOptions, devEUIs: readonly EUI64[]): EventWatch {
  if (!o.mqttUrl) throw new Error('chirpstack watch: no MQTT broker configured (option mqttUrl)');
  const base = `${o.mqttTopicPrefix}/${o.applicationId}/device`;
  const topics = (devEUIs.length === 0 ? ['+'] : devEUIs).flatMap((d) => [`${base}/${d}/event/join`, `${base}/${d}/event/up`]);
  const client = mqtt.connect(o.mqttUrl, {
    ...(o.mqttUsername ? { username: o.mqttUsername } : {}),
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  });
  const queue = new EventQueue(() => new Promise<void>((resolve) => client.end(false, {}, () => resolve())));
  client.once('connect', () => {
    client.subscribe(topics, { qos: 0 }, (err) => (err ? queue.fail(err) : queue.markReady()));
  });
  client.on('error', (err) => queue.fail(err));
  client.on('message', (topic, payload) => {
    const event = parseEvent(base, topic, payload);
    if (event) queue.push(event);
  });
  return queue;
}

function parseEvent(base: string, topic: string, payload: Buffer): NetworkServerEvent | null {
  if (!topic.startsWith(`${base}/`)) return null;
  const [devEUIText, eventLevel, kind, ...rest] = topic.slice(base.length + 1).split('/');
  if (eventLevel !== 'event' || (kind !== 'join' && kind !== 'up') || rest.length > 0) return null;
  let devEUI: EUI64;
  try {
    devEUI = parseEUI64(devEUIText);
  } catch {
    return null;
  }
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(payload.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // Protobuf-encoded integration (marshaler = "protobuf"): the topic alone says what happened.
  }
  const time = typeof body['time'] === 'string' ? new Date(body['time']) : new Date();
  return {
    kind,
    devEUI,
    at: Number.isNaN(time.getTime()) ? new Date() : time,
    topic,
    ...(typeof body['fCnt'] === 'number' ? { fCnt: body['fCnt'] } : {}),
    ...(typeof body['fPort'] === 'number' ? { fPort: body['fPort'] } : {}),
    ...(typeof body['data'] === 'string' ? { payload: Buffer.from(body['data'], 'base64') } : {}),
    ...(typeof body['devAddr'] === 'string' ? { devAddr: body['devAddr'] } : {}),
  };
}
