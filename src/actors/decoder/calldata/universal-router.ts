import { parseAbi, toFunctionSelector } from 'viem';
import type { SwapLeg } from '../../../messages/schema.js';
import { readAddress, readAddressArray, readBool, readBytes, readBytesArray, readBytesHex, readUint } from './abi-reader.js';
import {
  type CallContext,
  type CallHandler,
  MalformedCalldataError,
  createLeg,
  kindBit,
  redirectRouterOutput,
  resolveRecipient,
  selectorNumber,
  v2Pools,
  v3Pools,
} from './call-context.js';
import { decodeV3Path } from './v3-router.js';

/**
 * Uniswap Universal Router `execute`: a byte string of commands, one ABI-encoded input per command.
 * The V2/V3 swap commands become legs in command order; WRAP_ETH, UNWRAP_WETH and SWEEP tell where
 * ETH comes from and where output goes; every other command (Permit2, NFT markets, V4, …) is
 * skipped. The command byte is masked with 0x3f (0x80 is the allow-revert flag).
 *
 * Sentinels: recipient address(1) is the sender, address(2) the router; an amount of
 * CONTRACT_BALANCE (1 << 255) means "the router's balance", and a V2 exact-in amount of 0 means
 * "already paid to the pair": such an `amountIn` is null. A swap paid by the router
 * (`payerIsUser` false) after WRAP_ETH, from WETH, has `ethIn`.
 */
export const UNIVERSAL_ROUTER_ABI = parseAbi([
  'function execute(bytes commands, bytes[] inputs, uint256 deadline) payable',
  'function execute(bytes commands, bytes[] inputs) payable',
]);

/** Command types the classifier reads (Uniswap/universal-router `Commands.sol`). */
export const Command = {
  V3_SWAP_EXACT_IN: 0x00,
  V3_SWAP_EXACT_OUT: 0x01,
  SWEEP: 0x04,
  V2_SWAP_EXACT_IN: 0x08,
  V2_SWAP_EXACT_OUT: 0x09,
  WRAP_ETH: 0x0b,
  UNWRAP_WETH: 0x0c,
} as const;

/** Bits of a command byte that hold its type; 0x80 is the allow-revert flag. */
export const COMMAND_TYPE_MASK = 0x3f;

/** The router's "use my whole balance" amount. */
export const CONTRACT_BALANCE = 1n << 255n;

/**
 * Runs the commands of one `execute` call, appending legs to `ctx.legs`. Each input is read as
 * the router's Dispatcher reads it: swaps `(address recipient, uint256 amount, uint256 bound,
 * bytes|address[] path, bool payerIsUser)`, WRAP_ETH/UNWRAP_WETH `(address recipient, uint256
 * amount)`, SWEEP `(address token, address recipient, uint256 amountMin)`.
 * @throws MalformedCalldataError when commands and inputs differ in length (the router reverts)
 * or an input the classifier reads does not decode.
 */
function runCommands(commands: Uint8Array, inputs: readonly Uint8Array[], ctx: CallContext): void {
  if (commands.length !== inputs.length) throw new MalformedCalldataError(`${commands.length} commands, ${inputs.length} inputs`);
  const weth = ctx.entry?.weth;
  let wrapped = false;
  for (let i = 0; i < commands.length; i++) {
    const command = commands[i]! & COMMAND_TYPE_MASK;
    const input = inputs[i]!;
    switch (command) {
      case Command.V3_SWAP_EXACT_IN:
      case Command.V3_SWAP_EXACT_OUT: {
        const exactIn = command === Command.V3_SWAP_EXACT_IN;
        const { path, fees } = decodeV3Path(readBytesHex(input, 96, 0), !exactIn);
        const leg = createLeg('uniswap-v3', exactIn ? 'in' : 'out', path, fees, v3Pools(ctx, path, fees), recipientAt(input, ctx), ctx.deadline);
        setAmounts(leg, exactIn, readUint(input, 32), readUint(input, 64), false);
        leg.ethIn = !readBool(input, 128) && wrapped && (weth === undefined || path[0] === weth);
        ctx.legs.push(leg);
        break;
      }
      case Command.V2_SWAP_EXACT_IN:
      case Command.V2_SWAP_EXACT_OUT: {
        const exactIn = command === Command.V2_SWAP_EXACT_IN;
        const path = readAddressArray(input, 96, 0);
        if (path.length < 2) throw new MalformedCalldataError(`V2 path of ${path.length} token(s)`);
        const leg = createLeg('uniswap-v2', exactIn ? 'in' : 'out', path, [], v2Pools(ctx, path), recipientAt(input, ctx), ctx.deadline);
        setAmounts(leg, exactIn, readUint(input, 32), readUint(input, 64), true);
        leg.ethIn = !readBool(input, 128) && wrapped && (weth === undefined || path[0] === weth);
        ctx.legs.push(leg);
        break;
      }
      case Command.WRAP_ETH:
        readUint(input, 32);
        wrapped = true;
        break;
      case Command.UNWRAP_WETH:
        readUint(input, 32);
        redirectRouterOutput(ctx, weth ?? null, recipientAt(input, ctx), true);
        break;
      case Command.SWEEP:
        readUint(input, 64);
        redirectRouterOutput(ctx, readAddress(input, 0), resolveRecipient(readAddress(input, 32), 'universal-router', ctx), false);
        break;
      default:
        // Permit2, transfers, NFT markets, V4, sub-plans: nothing a swap intent records.
        break;
    }
  }
}

function recipientAt(input: Uint8Array, ctx: CallContext): string | null {
  return resolveRecipient(readAddress(input, 0), 'universal-router', ctx);
}

/** CONTRACT_BALANCE, and for V2 exact-in also 0 ("already paid to the pair"), leave amountIn null. */
function setAmounts(leg: SwapLeg, exactIn: boolean, amount: bigint, bound: bigint, v2: boolean): void {
  if (exactIn) {
    leg.amountIn = amount === CONTRACT_BALANCE || (v2 && amount === 0n) ? null : amount;
    leg.amountOutMin = bound;
  } else {
    leg.amountOut = amount;
    leg.amountInMax = bound;
  }
}

const [withDeadline, noDeadline] = UNIVERSAL_ROUTER_ABI;
const accepts = kindBit('universal-router');

/** Handlers for both `execute` overloads. */
export const UNIVERSAL_ROUTER_HANDLERS: readonly CallHandler[] = Object.freeze([
  Object.freeze({
    selector: selectorNumber(toFunctionSelector(withDeadline)),
    name: 'execute',
    kind: 'universal-router',
    accepts,
    decode(args: Uint8Array, ctx: CallContext): void {
      ctx.deadline = readUint(args, 64);
      runCommands(readBytes(args, 0, 0), readBytesArray(args, 32, 0), ctx);
    },
  } as const),
  Object.freeze({
    selector: selectorNumber(toFunctionSelector(noDeadline)),
    name: 'execute',
    kind: 'universal-router',
    accepts,
    decode(args: Uint8Array, ctx: CallContext): void {
      runCommands(readBytes(args, 0, 0), readBytesArray(args, 32, 0), ctx);
    },
  } as const),
]);
