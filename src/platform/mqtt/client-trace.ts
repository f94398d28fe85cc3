/**
 * Options for MQTT.js clients: MQTT.js traces each packet through the
 * `debug` package, which costs even when tracing is off (about 5 % of a busy
 * subscriber's CPU), so the trace is switched off unless DEBUG names mqttjs.
 */
export const QUIET_MQTT_CLIENT: { readonly log?: () => void } = /mqttjs/.test(process.env.DEBUG ?? '') ? {} : { log: (): void => undefined };
