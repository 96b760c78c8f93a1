//! Which transactions run lazily, and against what: a plain value transfer
//! between code-less accounts runs against mock sender and recipient
//! balances, and a declared token's `transfer(address,uint256)` against mock
//! balance slots, so each records deltas instead of reading balances that
//! other transactions of the block change.
//!
//! A mock must not change what the transaction does: the token mocks keep
//! whether each slot is zero (SSTORE gas depends on it) and the transfer's
//! success, and those conditions are recorded as reads that validation
//! checks again. A lazy value transfer's sender is checked in the fold.

use super::memory::ReadValue;
use super::vm::{MvDb, MvError};
use crate::{LazyToken, PreState};
use revm::context::{Cfg, CfgEnv, Transaction, TxEnv};
use revm::primitives::{keccak256, Address, TxKind, B256, KECCAK_EMPTY, U256};

use super::memory::{Location, SlotDelta, Value};

/// The balance a lazily updated sender is given while it executes; the real
/// balance is checked when the block is folded.
pub(crate) const MOCK_SENDER_BALANCE: U256 = U256::from_limbs([0, 0, 0, 1 << 62]);

/// Token balances and amounts below this are made lazy: a block's worth of
/// them cannot overflow a slot.
pub(crate) const LAZY_LIMIT: U256 = U256::from_limbs([0, 0, 1, 0]);

/// Lazy token transfers stack at most this many deltas on a slot.
const MAX_DELTA_DEPTH: usize = 32;

/// What a lazy token sender's slot holds while it executes.
const MOCK_TOKEN_SENDER: U256 = U256::MAX;

/// `transfer(address,uint256)`.
const TRANSFER_SELECTOR: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];

/// A plain transfer executed against mock balances.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LazyTransfer {
    pub sender: Address,
    pub recipient: Address,
    /// What the real sender must hold, checked in the fold.
    pub needs: SenderNeeds,
}

impl LazyTransfer {
    /// The recipient of a plain value transfer that may run lazily, if its
    /// accounts turn out to have no code.
    fn candidate(tx: &TxEnv, coinbase: Address) -> Option<Address> {
        let TxKind::Call(to) = tx.kind else {
            return None;
        };
        let plain = tx.value > U256::ZERO
            && tx.authorization_list.is_empty()
            && tx.caller != to
            && tx.caller != coinbase
            && to != coinbase
            && !is_precompile_range(to);
        plain.then_some(to)
    }

    /// Whether `tx` will run lazily, judged by the pre-state's code (code
    /// deployed in the block may yet change it): a guess before running.
    pub(super) fn likely(tx: &TxEnv, coinbase: Address, pre: &PreState) -> bool {
        let codeless = |a| pre.account(&a).is_none_or(|a| a.code_hash == KECCAK_EMPTY);
        Self::candidate(tx, coinbase).is_some_and(|to| codeless(tx.caller) && codeless(to))
    }

    /// A plain value transfer between code-less accounts, none of them the
    /// beneficiary, runs lazily where revm checks its sender's nonce and
    /// balance (as a block's own configuration does) and its most spending
    /// fits a word. The code checks are real reads.
    pub(super) fn choose(
        tx: &TxEnv,
        coinbase: Address,
        cfg: &CfgEnv,
        db: &mut MvDb<'_>,
    ) -> Result<(), MvError> {
        let Some(to) = Self::candidate(tx, coinbase) else {
            return Ok(());
        };
        let Some(needs) = SenderNeeds::of(tx, cfg) else {
            return Ok(());
        };
        let sender_code = db.code(tx.caller)?;
        let recipient_code = db.code(to)?;
        if sender_code.0 == KECCAK_EMPTY && recipient_code.0 == KECCAK_EMPTY {
            db.lazy = Some(Self {
                sender: tx.caller,
                recipient: to,
                needs,
            });
            db.lazy_codes = [sender_code, recipient_code];
        }
        Ok(())
    }
}

/// What a lazy transfer's real sender must hold for the transaction to be
/// valid: revm's nonce and balance checks, worked out from the transaction
/// while it executes (and is in cache). It travels with the sender's debit,
/// so the fold checks the sender where it meets the debit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SenderNeeds {
    nonce: u64,
    /// The most the transaction may spend.
    balance: U256,
}

impl SenderNeeds {
    /// None where revm would not check both (a configuration that turns a
    /// check off) or the most spending overflows: such a transfer is not
    /// lazy, and revm judges it against the real account.
    pub(super) fn of(tx: &TxEnv, cfg: &CfgEnv) -> Option<Self> {
        let checked = !(cfg.is_fee_charge_disabled()
            || cfg.is_balance_check_disabled()
            || cfg.is_nonce_check_disabled());
        Some(Self {
            nonce: tx.nonce,
            balance: tx.max_balance_spending().ok().filter(|_| checked)?,
        })
    }

    /// As revm's `validate_account_nonce_and_code` (a lazy sender has no
    /// code) and `calculate_caller_fee` judge the real account.
    pub(crate) fn met_by(&self, (balance, nonce): (U256, u64)) -> bool {
        self.nonce == nonce && nonce != u64::MAX && balance >= self.balance
    }
}

/// Precompiles live at small addresses on every fork we know.
fn is_precompile_range(address: Address) -> bool {
    address.0[..18].iter().all(|b| *b == 0)
}

impl LazyToken {
    /// Solidity's slot of `balances[holder]`, and what it hashes.
    fn balance_slot(&self, holder: Address) -> ([u8; 64], B256) {
        let mut key = [0u8; 64];
        key[12..32].copy_from_slice(holder.as_slice());
        key[32..].copy_from_slice(&self.balances_slot.to_be_bytes::<32>());
        (key, keccak256(key))
    }
}

/// A declared token's transfer executed against mock balance slots.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LazyTokenTransfer {
    token: Address,
    sender_slot: U256,
    recipient_slot: U256,
    mock_recipient: U256,
    /// The balances as read, where they came from the pre-state.
    sender_found: Option<U256>,
    recipient_found: Option<U256>,
}

impl LazyTokenTransfer {
    /// A `transfer` call to a declared token runs lazily when the sender's
    /// real balance exceeds the amount (so it succeeds and leaves a non-zero
    /// balance, as the mock does) and the recipient's is small.
    pub(super) fn choose(
        tx: &TxEnv,
        tokens: &[LazyToken],
        db: &mut MvDb<'_>,
    ) -> Result<Option<Self>, MvError> {
        let TxKind::Call(token) = tx.kind else {
            return Ok(None);
        };
        let data = &tx.data;
        if tokens.is_empty()
            || !tx.value.is_zero()
            || data.len() != 68
            || data[..4] != TRANSFER_SELECTOR
            || data[4..16].iter().any(|b| *b != 0)
        {
            return Ok(None);
        }
        let recipient = Address::from_slice(&data[16..36]);
        let amount = U256::from_be_slice(&data[36..68]);
        if recipient == tx.caller || amount >= LAZY_LIMIT {
            return Ok(None);
        }
        let (code_hash, _) = db.code(token)?;
        let Some(spec) = tokens.iter().find(|t| t.code_hash == code_hash) else {
            return Ok(None);
        };
        let sender_key = spec.balance_slot(tx.caller);
        let recipient_key = spec.balance_slot(recipient);
        // The token's code hashes the same two: it takes them from here.
        db.keccak_memo = [Some(sender_key), Some(recipient_key)];
        let (sender_slot, recipient_slot) = (sender_key.1.into(), recipient_key.1.into());
        db.prefetch_location(&Location::Storage(token, sender_slot));
        db.prefetch_location(&Location::Storage(token, recipient_slot));
        let (sender_balance, sender_pre, sender_depth) =
            db.storage_for_condition(token, sender_slot)?;
        let (recipient_balance, recipient_pre, recipient_depth) =
            db.storage_for_condition(token, recipient_slot)?;
        // A deep stack of deltas is summed by every reader: a plain write
        // on top of it keeps the next readers' walk short.
        let shallow = sender_depth.max(recipient_depth) < MAX_DELTA_DEPTH;
        if !shallow || sender_balance <= amount || recipient_balance >= LAZY_LIMIT {
            return Ok(None);
        }
        let zero = recipient_balance.is_zero();
        db.record_condition(
            token,
            sender_slot,
            ReadValue::StorageAbove(amount),
            sender_pre,
        );
        db.record_condition(
            token,
            recipient_slot,
            ReadValue::StorageFits { zero },
            recipient_pre,
        );
        Ok(Some(Self {
            token,
            sender_slot,
            recipient_slot,
            mock_recipient: if zero { U256::ZERO } else { U256::from(1) },
            sender_found: sender_pre.then_some(sender_balance),
            recipient_found: recipient_pre.then_some(recipient_balance),
        }))
    }

    /// The mock value of a balance slot this transfer runs against.
    pub(super) fn mock(&self, address: Address, slot: U256) -> Option<U256> {
        self.mock_and_found(address, slot).map(|(mock, _)| mock)
    }

    /// A mocked slot's mock, and its real value where read from the pre-state.
    fn mock_and_found(&self, address: Address, slot: U256) -> Option<(U256, Option<U256>)> {
        if address != self.token {
            return None;
        }
        if slot == self.sender_slot {
            Some((MOCK_TOKEN_SENDER, self.sender_found))
        } else if slot == self.recipient_slot {
            Some((self.mock_recipient, self.recipient_found))
        } else {
            None
        }
    }

    /// Turns the writes of the mocked slots into deltas against the mocks.
    pub(super) fn into_deltas(self, writes: &mut [(Location, Value)]) {
        for (loc, value) in writes {
            let Location::Storage(address, slot) = *loc else {
                continue;
            };
            let (Some((mock, found)), Value::Storage { value: now, .. }) =
                (self.mock_and_found(address, slot), &*value)
            else {
                continue;
            };
            *value = Value::StorageDelta(SlotDelta::between(mock, *now, found));
        }
    }
}
