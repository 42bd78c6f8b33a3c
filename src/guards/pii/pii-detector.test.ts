import { describe, expect, it } from 'vitest';
import { PiiDetector } from './index.js';
import { ibanValid, luhnValid, ssnValid } from './validators.js';

const pii = new PiiDetector();
const found = (text: string): [string, string][] => pii.detect(text).map((s) => [s.type, text.slice(s.start, s.end)]);

describe('validators', () => {
  it('Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });
  it('IBAN mod-97 and country length', () => {
    expect(ibanValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('GB82WEST12345698765433')).toBe(false);
    expect(ibanValid('GB82WEST1234569876543')).toBe(false);
  });
  it('SSN ranges', () => {
    expect(ssnValid('123', '45', '6780')).toBe(true);
    for (const [a, g, s] of [['000', '12', '3456'], ['666', '12', '3456'], ['912', '12', '3456'], ['123', '00', '4567'], ['123', '45', '0000']]) expect(ssnValid(a!, g!, s!)).toBe(false);
  });
});

describe('PiiDetector', () => {
  it('finds the structured types with validation', () => {
    expect(found('Card 4111 1111 1111 1111, not 4111 1111 1111 1112.')).toEqual([['CREDIT_CARD', '4111 1111 1111 1111']]);
    expect(found('My IBAN is GB82 WEST 1234 5698 7654 32 thanks')).toEqual([['IBAN_CODE', 'GB82 WEST 1234 5698 7654 32']]);
    expect(found('SSN: 123-45-6780; bad: 666-12-3456')).toEqual([['US_SSN', '123-45-6780']]);
    expect(found('from 192.168.1.20 and 2001:db8::8a2e:370:7334, not 999.1.1.1 or 12:30:45')).toEqual([
      ['IP_ADDRESS', '192.168.1.20'],
      ['IP_ADDRESS', '2001:db8::8a2e:370:7334'],
    ]);
    expect(found('write to jane.doe+x@mail.example.co.uk')).toEqual([['EMAIL_ADDRESS', 'jane.doe+x@mail.example.co.uk']]);
  });

  it('validates phone numbers with libphonenumber and raises them with context', () => {
    expect(found('Call me at +44 20 7946 0958 or +1 (415) 555-2671.')).toEqual([
      ['PHONE_NUMBER', '+44 20 7946 0958'],
      ['PHONE_NUMBER', '+1 (415) 555-2671'],
    ]);
    expect(found('mobile: 0490 39 07 81')).toEqual([['PHONE_NUMBER', '0490 39 07 81']]);
    expect(found('The build took 1234567 ms in 2021-03-04 12:00.')).toEqual([]);
  });

  it('needs birth context for a date of birth', () => {
    expect(found('She was born on 2/8/1935 in Ohio.')).toEqual([['DATE_OF_BIRTH', '2/8/1935']]);
    expect(found('DOB: March 3, 1990')).toEqual([['DATE_OF_BIRTH', 'March 3, 1990']]);
    expect(found('The meeting is on 2/8/2021.')).toEqual([]);
  });

  it('finds names and street addresses (best effort)', () => {
    expect(found('Please ask Jennifer Lopez about it.')).toEqual([['PERSON', 'Jennifer Lopez']]);
    expect(found('Mr. Leiva flew home.')).toEqual([['PERSON', 'Leiva']]);
    expect(found('She lives at 90 Whitchurch Road, apt 4.')).toEqual([['STREET_ADDRESS', '90 Whitchurch Road, apt 4']]);
    expect(found('Send it to Friedhofstrasse 33 please')).toEqual([['STREET_ADDRESS', 'Friedhofstrasse 33']]);
    expect(found('I will be there in May. Will you come?')).toEqual([]);
  });

  it('filters by type and score', () => {
    const text = 'jane@example.com, 4111111111111111';
    expect(pii.detect(text, { types: ['CREDIT_CARD'] }).map((s) => s.type)).toEqual(['CREDIT_CARD']);
    expect(pii.detect(text, { minScore: 0.99 })).toEqual([]);
  });
});
