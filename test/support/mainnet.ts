/** Mainnet addresses and constants the calldata tests share (lowercase). */
export const USDC = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48';
export const WETH = '0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2';
export const DAI = '0x6b175474e89094c44da98b954eedeac495271d0f';
/** A swapper's own address, as a recipient. */
export const USER = '0x00000000000000000000000000000000000b0b00';
/** The transaction's sender, which the routers' `address(1)` recipient stands for. */
export const SENDER = '0x5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e';
/** Router recipient sentinels: `address(1)` = msg.sender, `address(2)` = the router itself. */
export const MSG_SENDER = '0x0000000000000000000000000000000000000001';
export const ADDRESS_THIS = '0x0000000000000000000000000000000000000002';
export const ZERO = '0x0000000000000000000000000000000000000000';
/** Uniswap V3 USDC/WETH 0.05% pool and the V2 USDC/WETH and DAI/WETH pairs. */
export const USDC_WETH_500 = '0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640';
export const USDC_WETH_V2 = '0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc';
export const DAI_WETH_V2 = '0xa478c2975ab1ea89e8196811f51a7b7ade33eb11';
/** A deadline in the past of any test run's wall clock, fixed so intents compare exactly. */
export const DEADLINE = 1_700_000_000n;
