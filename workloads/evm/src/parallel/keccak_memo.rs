//! KECCAK256 for the EVM that runs lazy token transfers. Such a transfer has
//! already hashed its holders' balance slots to mock them (`lazy`), and the
//! token's code hashes the same two preimages again: the instruction takes
//! those hashes from the executor's memo. Every memo entry is a true
//! (preimage, hash) pair, so a stale one is never wrong, only unused.

use super::vm::MvDb;
use revm::bytecode::opcode::KECCAK256;
use revm::handler::instructions::EthInstructions;
use revm::interpreter::interpreter::{resize_memory, EthInterpreter};
use revm::interpreter::{
    as_usize_or_fail, gas, popn_top, Host, Instruction, InstructionContext, InstructionExecResult,
};
use revm::primitives::{keccak256, B256, KECCAK_EMPTY};

/// The preimages a lazy token transfer hashed: `(holder, mapping slot)`.
pub(crate) type KeccakMemo = [Option<([u8; 64], B256)>; 2];

type MvContext<'a> = revm::handler::MainnetContext<MvDb<'a>>;

/// Puts the memo's KECCAK256 into `instructions`, at the static gas the
/// table already charges.
pub(crate) fn install(instructions: &mut EthInstructions<EthInterpreter, MvContext<'_>>) {
    let gas = instructions.gas_table()[KECCAK256 as usize];
    instructions.insert_instruction(KECCAK256, Instruction::new(memo_keccak256), gas);
}

/// revm's own KECCAK256 (revm-interpreter 43, `instructions/system.rs`):
/// the same stack, gas and memory steps, and the hash from the memo where
/// it holds the input.
fn memo_keccak256(
    context: InstructionContext<'_, MvContext<'_>, EthInterpreter>,
) -> InstructionExecResult {
    popn_top!([offset], top, context.interpreter);
    let len = as_usize_or_fail!(context.interpreter, top);
    gas!(
        context.interpreter,
        context.host.gas_params().keccak256_cost(len)
    );
    let hash = if len == 0 {
        KECCAK_EMPTY
    } else {
        let from = as_usize_or_fail!(context.interpreter, offset);
        resize_memory(
            &mut context.interpreter.gas,
            &mut context.interpreter.memory,
            context.host.gas_params(),
            from,
            len,
        )?;
        let input = context.interpreter.memory.slice_len(from, len);
        let memo = &context.host.journaled_state.database.keccak_memo;
        memo.iter()
            .flatten()
            .find(|(preimage, _)| preimage[..] == input[..])
            .map_or_else(|| keccak256(&*input), |(_, hash)| *hash)
    };
    *top = hash.into();
    Ok(())
}
