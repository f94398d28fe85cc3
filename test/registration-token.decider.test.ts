import { randomUUID } from 'node:crypto';
import { deviceCertificateDecider } from '../src/commands/device-certificates/device-certificate.decider';
import { registrationTokenDecider } from '../src/commands/registration-tokens/registration-token.decider';
import { registrationTokenStream } from '../src/commands/registration-tokens/registration-token.events';
import {
  generateRegistrationToken,
  hashRegistrationSecret,
  parseRegistrationToken,
  registrationSecretMatches,
} from '../src/commands/registration-tokens/registration-token.secret';
import { spec } from './support/decider-spec';
import {
  BEFORE_EXPIRY,
  EXPIRES_AT,
  aDeviceCertificateIssued,
  aDeviceCertificateRevoked,
  aRedeemRegistrationToken,
  aRegistrationTokenIssued,
  aRegistrationTokenRedeemed,
  aRegistrationTokenRevoked,
  aRevokeRegistrationToken,
  anIssueRegistrationToken,
} from './support/provisioning.builders';

const token = spec(registrationTokenDecider);
const certificates = spec(deviceCertificateDecider);

describe('RegistrationToken', () => {
  it('lives in the stream registrationToken-<tokenId>', () => {
    expect(registrationTokenStream('abc')).toBe('registrationToken-abc');
  });

  describe('when absent', () => {
    it('issues it with the hash of the secret, stamped with the command time', () => {
      const command = anIssueRegistrationToken();
      if (command.type !== 'IssueRegistrationToken') throw new Error('builder');
      const { now, ...data } = command.data;
      token.given([]).when(command).then([{ type: 'RegistrationTokenIssued', data: { ...data, issuedAt: now } }]);
    });

    it('refuses a redemption as an invalid token (401), like a forged one', () => {
      token.given([]).when(aRedeemRegistrationToken(randomUUID())).thenThrows({ code: 'REGISTRATION_TOKEN_INVALID', status: 401 });
    });

    it('refuses a revocation with REGISTRATION_TOKEN_NOT_FOUND (404)', () => {
      token.given([]).when(aRevokeRegistrationToken(randomUUID())).thenThrows({ code: 'REGISTRATION_TOKEN_NOT_FOUND', status: 404 });
    });
  });

  describe('when pending', () => {
    const issued = aRegistrationTokenIssued();
    const { tokenId, deviceId } = issued.data;

    it('redeems it before expiry, for the device it was issued for', () => {
      const command = aRedeemRegistrationToken(tokenId, BEFORE_EXPIRY);
      if (command.type !== 'RedeemRegistrationToken') throw new Error('builder');
      token
        .given([issued])
        .when(command)
        .then([{ type: 'RegistrationTokenRedeemed', data: { tokenId, deviceId, redemptionId: command.data.redemptionId, redeemedAt: BEFORE_EXPIRY } }]);
    });

    it('refuses a redemption at or after expiresAt with REGISTRATION_TOKEN_EXPIRED (401)', () => {
      token.given([issued]).when(aRedeemRegistrationToken(tokenId, EXPIRES_AT)).thenThrows({ code: 'REGISTRATION_TOKEN_EXPIRED', status: 401 });
      token
        .given([issued])
        .when(aRedeemRegistrationToken(tokenId, '2026-01-01T00:00:00.000Z'))
        .thenThrows({ code: 'REGISTRATION_TOKEN_EXPIRED', status: 401 });
    });

    it('revokes it, expired or not', () => {
      token.given([issued]).when(aRevokeRegistrationToken(tokenId)).then([aRegistrationTokenRevoked(issued)]);
      token.given([issued]).when(aRevokeRegistrationToken(tokenId, '2026-01-01T00:00:00.000Z')).then([aRegistrationTokenRevoked(issued, '2026-01-01T00:00:00.000Z')]);
    });

    it('refuses a second issue with CONFLICT (409)', () => {
      token.given([issued]).when(anIssueRegistrationToken({ tokenId })).thenThrows({ code: 'CONFLICT', status: 409 });
    });
  });

  describe('when redeemed', () => {
    const issued = aRegistrationTokenIssued();
    const history = [issued, aRegistrationTokenRedeemed(issued)];

    it('refuses another redemption with REGISTRATION_TOKEN_USED (409)', () => {
      token.given(history).when(aRedeemRegistrationToken(issued.data.tokenId)).thenThrows({ code: 'REGISTRATION_TOKEN_USED', status: 409 });
    });

    it('refuses a revocation with REGISTRATION_TOKEN_USED (409): the certificate is what to revoke', () => {
      token.given(history).when(aRevokeRegistrationToken(issued.data.tokenId)).thenThrows({ code: 'REGISTRATION_TOKEN_USED', status: 409 });
    });
  });

  describe('when revoked', () => {
    const issued = aRegistrationTokenIssued();
    const history = [issued, aRegistrationTokenRevoked(issued)];

    it('refuses a redemption with REGISTRATION_TOKEN_REVOKED (401), even after expiry', () => {
      token.given(history).when(aRedeemRegistrationToken(issued.data.tokenId)).thenThrows({ code: 'REGISTRATION_TOKEN_REVOKED', status: 401 });
      token
        .given(history)
        .when(aRedeemRegistrationToken(issued.data.tokenId, '2026-01-01T00:00:00.000Z'))
        .thenThrows({ code: 'REGISTRATION_TOKEN_REVOKED', status: 401 });
    });

    it('changes nothing on a second revocation', () => {
      token.given(history).when(aRevokeRegistrationToken(issued.data.tokenId)).then([]);
    });
  });
});

describe('registration token text', () => {
  const tokenId = randomUUID();
  const deviceId = randomUUID();

  it('is <tokenId>.<deviceId>.<43-char base64url secret>, and only the secret’s SHA-256 is kept', () => {
    const { token: text, secretHash } = generateRegistrationToken(tokenId, deviceId);
    const parsed = parseRegistrationToken(text);
    expect(parsed).toEqual({ tokenId, deviceId, secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(secretHash).toBe(hashRegistrationSecret(parsed?.secret ?? ''));
    expect(secretHash).not.toContain(parsed?.secret ?? '');
    expect(registrationSecretMatches(parsed?.secret ?? '', secretHash)).toBe(true);
    const secret = parsed?.secret ?? '';
    // Change the last character (to something it is not: a fixed 'A' matched once in 64 runs).
    const tampered = `${secret.slice(0, 42)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expect(registrationSecretMatches(tampered, secretHash)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['two parts', `${tokenId}.${'A'.repeat(43)}`],
    ['four parts', `${tokenId}.${deviceId}.${'A'.repeat(43)}.x`],
    ['upper-case ids', `${tokenId.toUpperCase()}.${deviceId}.${'A'.repeat(43)}`],
    ['a short secret', `${tokenId}.${deviceId}.${'A'.repeat(42)}`],
    ['a secret with padding', `${tokenId}.${deviceId}.${'A'.repeat(42)}=`],
    ['a secret that is not the encoding of 32 bytes', `${tokenId}.${deviceId}.${'A'.repeat(42)}B`],
    ['surrounding spaces', ` ${tokenId}.${deviceId}.${'A'.repeat(43)} `],
    ['an id that is not a uuid', `not-a-uuid.${deviceId}.${'A'.repeat(43)}`],
  ])('refuses %s', (_what, text) => {
    expect(parseRegistrationToken(text)).toBeUndefined();
  });
});

describe('DeviceCertificates', () => {
  const deviceId = randomUUID();
  const first = aDeviceCertificateIssued({ deviceId });
  const second = aDeviceCertificateIssued({ deviceId });
  const expired = aDeviceCertificateIssued({ deviceId, notAfter: '2025-01-02T06:00:00.000Z' });

  describe('when none was issued', () => {
    it('records one, and revoking all of none decides nothing', () => {
      certificates.given([]).when({ type: 'RecordDeviceCertificate', data: first.data }).then([first]);
      certificates.given([]).when({ type: 'RevokeAllDeviceCertificates', data: { deviceId, reason: 'CESSATION_OF_OPERATION', now: BEFORE_EXPIRY } }).then([]);
    });

    it('refuses to revoke a serial with DEVICE_CERTIFICATE_NOT_FOUND (404)', () => {
      certificates
        .given([])
        .when({ type: 'RevokeDeviceCertificate', data: { deviceId, serialNumber: first.data.serialNumber, reason: 'UNSPECIFIED', now: BEFORE_EXPIRY } })
        .thenThrows({ code: 'DEVICE_CERTIFICATE_NOT_FOUND', status: 404 });
    });
  });

  describe('when some were issued', () => {
    const history = [first, second, expired];
    const revoke = (serialNumber: string) =>
      ({ type: 'RevokeDeviceCertificate', data: { deviceId, serialNumber, reason: 'KEY_COMPROMISE', now: BEFORE_EXPIRY } }) as const;

    it('revokes one by serial number, and a second time decides nothing', () => {
      const revoked = aDeviceCertificateRevoked(first, { reason: 'KEY_COMPROMISE' });
      certificates.given(history).when(revoke(first.data.serialNumber)).then([revoked]);
      certificates.given([...history, revoked]).when(revoke(first.data.serialNumber)).then([]);
    });

    it('refuses an unknown serial, and names of Object.prototype, with DEVICE_CERTIFICATE_NOT_FOUND', () => {
      for (const serialNumber of ['00ff', 'constructor', '__proto__', 'toString']) {
        certificates.given(history).when(revoke(serialNumber)).thenThrows({ code: 'DEVICE_CERTIFICATE_NOT_FOUND' });
      }
    });

    it('refuses to record a serial twice with CONFLICT (409)', () => {
      certificates.given(history).when({ type: 'RecordDeviceCertificate', data: first.data }).thenThrows({ code: 'CONFLICT', status: 409 });
    });

    it('revokes all that are neither revoked nor expired', () => {
      const gone = aDeviceCertificateRevoked(first);
      certificates
        .given([...history, gone])
        .when({ type: 'RevokeAllDeviceCertificates', data: { deviceId, reason: 'CESSATION_OF_OPERATION', now: BEFORE_EXPIRY } })
        .then([aDeviceCertificateRevoked(second, { reason: 'CESSATION_OF_OPERATION' })]);
    });
  });
});
