import { answerHeader, answerTypeOf } from './answer-header';
import { parseRequestHeader } from './request-header';
import { parseResultCode } from './result-code';
import { resultCodeFor } from './result-table';

describe('backend-interfaces/header', () => {
  test('tolerant: numeric-string TransactionID, 0x SenderToken, upper-case NSID', () => {
    const { header, problem } = parseRequestHeader({
      ProtocolVersion: '1.1',
      SenderID: '000013',
      ReceiverID: '70B3D57ED0000000',
      TransactionID: '0',
      MessageType: 'JoinReq',
      SenderToken: '0xABCD',
      SenderNSID: '70B3D57ED0000001',
      VSExtension: {},
      Unknown: 'ignored',
    });
    expect(problem).toBeUndefined();
    expect(header.transactionID).toBe(0);
    expect(header.senderToken).toBe('abcd');
    expect(header.senderNSID).toBe('70b3d57ed0000001');
  });

  test('answer swaps sender and receiver and echoes the rest, without nulls', () => {
    const { header } = parseRequestHeader({ ProtocolVersion: '1.1', SenderID: '000013', ReceiverID: '0102030405060708', TransactionID: 7, MessageType: 'JoinReq', SenderNSID: '0000000000000001', SenderToken: '01' });
    expect(answerHeader(header, '0102030405060708')).toEqual({
      ProtocolVersion: '1.1',
      SenderID: '0102030405060708',
      ReceiverID: '000013',
      TransactionID: 7,
      MessageType: 'JoinAns',
      ReceiverToken: '01',
      ReceiverNSID: '0000000000000001',
    });
    const { header: h10 } = parseRequestHeader({ ProtocolVersion: '1.0', SenderID: '000013', ReceiverID: 'x', TransactionID: 1, MessageType: 'JoinReq' });
    expect(Object.values(answerHeader(h10, 'x'))).not.toContain(null);
    expect(answerHeader(h10, 'x')).not.toHaveProperty('ReceiverToken');
  });

  test.each([
    [{ SenderID: 'a', ReceiverID: 'b', MessageType: 'JoinReq' }, 'TransactionID'],
    [{ SenderID: 'a', ReceiverID: 'b', TransactionID: -1, MessageType: 'JoinReq' }, 'TransactionID'],
    [{ SenderID: 'a', ReceiverID: 'b', TransactionID: 2 ** 32, MessageType: 'JoinReq' }, 'TransactionID'],
    [{ ReceiverID: 'b', TransactionID: 1, MessageType: 'JoinReq' }, 'SenderID'],
    [{ SenderID: 'a', ReceiverID: 'b', TransactionID: 1 }, 'MessageType'],
  ])('malformed header %#: reports %s', (body, field) => {
    const { problem } = parseRequestHeader({ ProtocolVersion: '1.0', ...body });
    expect(problem?.field).toBe(field);
  });

  test('unknown protocol version is flagged', () => {
    expect(parseRequestHeader({ ProtocolVersion: '2.0' }).header.protocolVersionValid).toBe(false);
    expect(parseRequestHeader({ ProtocolVersion: '1.0' }).header.protocolVersionValid).toBe(true);
  });

  test('answer types', () => {
    expect(answerTypeOf('JoinReq')).toBe('JoinAns');
    expect(answerTypeOf('AppSKeyReq')).toBe('AppSKeyAns');
    expect(answerTypeOf('ErrorNotif')).toBe('ErrorNotif');
  });
});

describe('backend-interfaces/result codes', () => {
  test('malformed is spelled by version', () => {
    expect(resultCodeFor('Malformed', '1.0')).toBe('MalformedRequest');
    expect(resultCodeFor('Malformed', '1.1')).toBe('MalformedMessage');
    expect(resultCodeFor('DevNonceReplayed', '1.0')).toBe('JoinReqFailed');
    expect(resultCodeFor('NotBound', '1.1')).toBe('ActivationDisallowed');
  });
  test('input aliases real peers send', () => {
    expect(parseResultCode('UnkownReceiver')).toBe('UnknownReceiver');
    expect(parseResultCode('RoamingActDisallowedA')).toBe('RoamingActDisallowed');
    expect(parseResultCode('Nonsense')).toBe('Other');
  });
});
