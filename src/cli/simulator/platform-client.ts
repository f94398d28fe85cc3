/**
 * The few REST calls the simulator makes, as any API client would: with an
 * API key, over HTTP, honouring 429 Retry-After so that enrolling many
 * devices stays within the rate limits instead of failing.
 */
export interface ProvisionAnswer {
  readonly deviceId: string;
  readonly certificate: string;
  readonly caChain: string;
  readonly serialNumber: string;
  readonly mqtt: { readonly url: string; readonly clientId: string };
}

const MAX_ATTEMPTS = 8;
const MAX_WAIT_S = 60;

export class PlatformClient {
  constructor(
    readonly apiUrl: string,
    private readonly apiKey: string,
  ) {}

  async organizationId(): Promise<string> {
    const org = (await this.call('GET', '/api/v1/organization')) as { id: string };
    return org.id;
  }

  async createRegistrationToken(deviceName: string): Promise<{ token: string; deviceId: string; provisionEndpoint: string }> {
    return (await this.call('POST', '/api/v1/devices/registration/tokens', { deviceName })) as { token: string; deviceId: string; provisionEndpoint: string };
  }

  /** The token is the credential here: no API key is sent, as on a real device. */
  async provision(token: string, csr: string): Promise<ProvisionAnswer> {
    return (await this.call('POST', '/api/v1/devices/provision', { token, csr }, false)) as ProvisionAnswer;
  }

  async createSensor(deviceId: string, key: string): Promise<void> {
    await this.call('POST', '/api/v1/sensors', { deviceId, key, name: key });
  }

  private async call(method: string, pathname: string, body?: unknown, withKey = true): Promise<unknown> {
    for (let attempt = 1; ; attempt += 1) {
      const res = await fetch(new URL(pathname, this.apiUrl), {
        method,
        headers: { 'Content-Type': 'application/json', ...(withKey ? { Authorization: `Bearer ${this.apiKey}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status === 429 && attempt < MAX_ATTEMPTS) {
        const wait = Math.min(Number(res.headers.get('retry-after') ?? '1') || 1, MAX_WAIT_S);
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        continue;
      }
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${pathname} answered ${res.status}: ${text.slice(0, 500)}`);
      return text === '' ? undefined : (JSON.parse(text) as unknown);
    }
  }
}
