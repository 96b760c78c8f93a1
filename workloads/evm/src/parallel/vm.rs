//! One transaction, executed by revm against the multi-version memory: what
//! it read (for validation), what it wrote, and its result.
//!
//! Lazy updates: the beneficiary's fee is never written by the transaction
//! itself (the handler defers it, see `DeferredReward`), and a plain value
//! transfer between two code-less accounts runs against mock sender and
//! recipient balances, so it records balance deltas instead of reading
//! balances. The fold at the end of the block applies them in order.

use super::memory::{Basic, Blocked, Location, MvMemory, ReadValue, TxIdx, Value};
use crate::PreState;
use revm::bytecode::Bytecode;
use revm::context::result::{EVMError, ExecutionResult, HaltReason};
use revm::context::Context;
use revm::context::{BlockEnv, Cfg, CfgEnv, ContextSetters, ContextTr, Transaction, TxEnv};
use revm::database_interface::{DBErrorMarker, Database, DatabaseRef};
use revm::handler::{
    EvmTr, FrameResult, Handler, MainBuilder, MainContext, MainnetContext, MainnetEvm,
};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, TxKind, B256, KECCAK_EMPTY, U256};
use revm::state::{AccountInfo, EvmState};
use std::cell::Cell;

/// The balance a lazily updated sender is given while it executes; the real
/// balance is checked when the block is folded.
pub(crate) const MOCK_SENDER_BALANCE: U256 = U256::from_limbs([0, 0, 0, 1 << 62]);

#[derive(Debug, thiserror::Error)]
pub(crate) enum MvError {
    #[error("read an estimate of transaction {0}")]
    Blocked(TxIdx),
}
impl DBErrorMarker for MvError {}

/// A plain transfer executed against mock balances.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LazyTransfer {
    pub sender: Address,
    pub recipient: Address,
}

/// The database revm sees while executing transaction `tx`.
pub(crate) struct MvDb<'a> {
    mv: &'a MvMemory<'a>,
    pre: &'a PreState,
    tx: TxIdx,
    nonce: u64,
    lazy: Option<LazyTransfer>,
    lazy_codes: [(B256, Option<Bytecode>); 2],
    reads: Vec<(Location, ReadValue)>,
    /// Headroom mode: every transaction a read took its value from.
    writers: Option<Vec<TxIdx>>,
}

impl<'a> MvDb<'a> {
    fn record(&mut self, loc: Location, value: ReadValue) {
        self.reads.push((loc, value));
    }

    fn writers(&mut self) -> Option<&mut Vec<TxIdx>> {
        self.writers.as_mut()
    }

    fn code(&mut self, address: Address) -> Result<(B256, Option<Bytecode>), MvError> {
        let mv = self.mv;
        let (hash, code) = mv
            .read_code(self.tx, address, self.writers())
            .map_err(|Blocked(b)| MvError::Blocked(b))?;
        self.record(Location::Code(address), ReadValue::Code(hash));
        Ok((hash, code))
    }

    fn basic_value(&self, address: Address) -> Option<Basic> {
        self.reads.iter().find_map(|(l, v)| match (l, v) {
            (Location::Basic(a), ReadValue::Basic(b)) if *a == address => Some(*b),
            _ => None,
        })
    }

    fn code_value(&self, address: Address) -> Option<B256> {
        self.reads.iter().find_map(|(l, v)| match (l, v) {
            (Location::Code(a), ReadValue::Code(h)) if *a == address => Some(*h),
            _ => None,
        })
    }
}

fn info(balance: U256, nonce: u64, (code_hash, code): (B256, Option<Bytecode>)) -> AccountInfo {
    AccountInfo {
        balance,
        nonce,
        code_hash,
        code,
        ..Default::default()
    }
}

impl Database for MvDb<'_> {
    type Error = MvError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, MvError> {
        if let Some(lazy) = self.lazy {
            if address == lazy.sender {
                return Ok(Some(info(
                    MOCK_SENDER_BALANCE,
                    self.nonce,
                    self.lazy_codes[0].clone(),
                )));
            }
            if address == lazy.recipient {
                return Ok(Some(info(U256::ZERO, 0, self.lazy_codes[1].clone())));
            }
        }
        let mv = self.mv;
        let basic = mv
            .read_basic(self.tx, address, self.writers())
            .map_err(|Blocked(b)| MvError::Blocked(b))?;
        self.record(Location::Basic(address), ReadValue::Basic(basic));
        let Some((balance, nonce)) = basic else {
            return Ok(None);
        };
        let code = self.code(address)?;
        Ok(Some(info(balance, nonce, code)))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, MvError> {
        Ok(self.mv.code_by_hash(code_hash))
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, MvError> {
        let mv = self.mv;
        let value = mv
            .read_storage(self.tx, address, index, self.writers())
            .map_err(|Blocked(b)| MvError::Blocked(b))?;
        self.record(Location::Storage(address, index), ReadValue::Storage(value));
        Ok(value)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, MvError> {
        Ok((&self.pre).block_hash_ref(number).unwrap_or_default())
    }
}

type MvEvm<'a> = MainnetEvm<MainnetContext<MvDb<'a>>>;

/// Mainnet execution, except that the beneficiary's fee is computed but not
/// paid: it becomes a lazy delta, so transactions do not all write one account.
struct DeferredReward<'a> {
    reward: Cell<Option<U256>>,
    _evm: std::marker::PhantomData<MvEvm<'a>>,
}

impl<'a> Handler for DeferredReward<'a> {
    type Evm = MvEvm<'a>;
    type Error = EVMError<MvError>;
    type HaltReason = HaltReason;

    fn reward_beneficiary(
        &self,
        evm: &mut Self::Evm,
        result: &mut FrameResult,
    ) -> Result<(), Self::Error> {
        // Same arithmetic as revm's post_execution::reward_beneficiary.
        let ctx = evm.ctx();
        if ctx.cfg().is_fee_charge_disabled() {
            return Ok(());
        }
        let basefee = ctx.block().basefee as u128;
        let effective = ctx.tx().effective_gas_price(basefee);
        let price = if ctx.cfg().spec().is_enabled_in(SpecId::LONDON) {
            effective.saturating_sub(basefee)
        } else {
            effective
        };
        let gas = result.gas();
        let used = gas.used().saturating_sub(gas.reservoir());
        self.reward.set(Some(U256::from(price * used as u128)));
        Ok(())
    }
}

/// What one incarnation of a transaction did.
pub(crate) struct TxOutcome {
    /// Err: revm refused the transaction (maybe only because of a stale read).
    pub result: Result<ExecutionResult, String>,
    pub state: EvmState,
    pub reward: Option<U256>,
    pub lazy: Option<LazyTransfer>,
    pub reads: Vec<(Location, ReadValue)>,
    pub writes: Vec<(Location, Value)>,
    pub writers: Vec<TxIdx>,
}

/// A worker's revm instance, built once per thread and reused for every task.
pub(crate) struct TxExecutor<'a> {
    evm: MvEvm<'a>,
    coinbase: Address,
}

impl<'a> TxExecutor<'a> {
    pub(crate) fn new(
        mv: &'a MvMemory<'a>,
        pre: &'a PreState,
        block: &BlockEnv,
        cfg: &CfgEnv,
    ) -> Self {
        let db = MvDb {
            mv,
            pre,
            tx: 0,
            nonce: 0,
            lazy: None,
            lazy_codes: Default::default(),
            reads: Vec::new(),
            writers: None,
        };
        let evm = Context::mainnet()
            .with_db(db)
            .with_block(block.clone())
            .with_cfg(cfg.clone())
            .build_mainnet();
        Self {
            evm,
            coinbase: block.beneficiary,
        }
    }

    /// Executes transaction `index`; Err when it read an estimate.
    pub(crate) fn execute(
        &mut self,
        index: TxIdx,
        tx: &TxEnv,
        track_writers: bool,
    ) -> Result<TxOutcome, TxIdx> {
        {
            let db = &mut self.evm.ctx.journaled_state.database;
            db.tx = index;
            db.nonce = tx.nonce;
            db.lazy = None;
            db.reads.clear();
            db.writers = track_writers.then(Vec::new);
        }
        self.choose_lazy(tx).map_err(|MvError::Blocked(b)| b)?;
        self.evm.ctx.set_tx(tx.clone());
        let handler = DeferredReward {
            reward: Cell::new(None),
            _evm: std::marker::PhantomData,
        };
        let mut handler = handler;
        let run = handler.run(&mut self.evm);
        let state = revm::handler::ExecuteEvm::finalize(&mut self.evm);
        let result = match run {
            Ok(r) => Ok(r),
            Err(EVMError::Database(MvError::Blocked(b))) => return Err(b),
            Err(e) => Err(e.to_string()),
        };
        let db = &mut self.evm.ctx.journaled_state.database;
        let reward = if result.is_ok() {
            handler.reward.get()
        } else {
            None
        };
        let lazy = db.lazy;
        let writes = if result.is_ok() {
            writes_of(&state, db, reward, self.coinbase)
        } else {
            Vec::new()
        };
        Ok(TxOutcome {
            result,
            state,
            reward,
            lazy,
            reads: std::mem::take(&mut db.reads),
            writes,
            writers: db.writers.take().unwrap_or_default(),
        })
    }

    /// A plain value transfer between code-less accounts, none of them the
    /// beneficiary, runs lazily. The code checks are real reads.
    fn choose_lazy(&mut self, tx: &TxEnv) -> Result<(), MvError> {
        let TxKind::Call(to) = tx.kind else {
            return Ok(());
        };
        let plain = tx.value > U256::ZERO
            && tx.authorization_list.is_empty()
            && tx.caller != to
            && tx.caller != self.coinbase
            && to != self.coinbase
            && !is_precompile_range(to);
        if !plain {
            return Ok(());
        }
        let db = &mut self.evm.ctx.journaled_state.database;
        let sender_code = db.code(tx.caller)?;
        let recipient_code = db.code(to)?;
        if sender_code.0 == KECCAK_EMPTY && recipient_code.0 == KECCAK_EMPTY {
            db.lazy = Some(LazyTransfer {
                sender: tx.caller,
                recipient: to,
            });
            db.lazy_codes = [sender_code, recipient_code];
        }
        Ok(())
    }
}

/// Precompiles live at small addresses on every fork we know.
fn is_precompile_range(address: Address) -> bool {
    address.0[..18].iter().all(|b| *b == 0)
}

/// The locations an incarnation wrote, mirroring what `CacheDB::commit` would
/// change, minus values equal to what the transaction itself read.
fn writes_of(
    state: &EvmState,
    db: &MvDb<'_>,
    reward: Option<U256>,
    coinbase: Address,
) -> Vec<(Location, Value)> {
    let mut writes = Vec::with_capacity(state.len() + 2);
    let mut reward_paid = reward.is_none();
    for (address, account) in state {
        let address = *address;
        if let Some(lazy) = db.lazy {
            if address == lazy.sender {
                writes.push((
                    Location::Basic(address),
                    Value::BalanceDelta {
                        add: U256::ZERO,
                        sub: MOCK_SENDER_BALANCE - account.info.balance,
                        nonce_incr: account.info.nonce - db.nonce,
                    },
                ));
                continue;
            }
            if address == lazy.recipient {
                writes.push((
                    Location::Basic(address),
                    Value::BalanceDelta {
                        add: account.info.balance,
                        sub: U256::ZERO,
                        nonce_incr: 0,
                    },
                ));
                continue;
            }
        }
        let is_coinbase = address == coinbase;
        if !account.is_touched() {
            if is_coinbase && !reward_paid {
                // Loaded (read) but unchanged: the fee makes it a full write.
                if let Some(basic) = db.basic_value(address) {
                    let (balance, nonce) = basic.unwrap_or_default();
                    let r = reward.unwrap_or_default();
                    writes.push((
                        Location::Basic(address),
                        Value::Basic(Some((balance + r, nonce))),
                    ));
                    reward_paid = true;
                }
            }
            continue;
        }
        if account.is_selfdestructed() {
            writes.push((Location::Basic(address), Value::Basic(None)));
            writes.push((Location::Code(address), Value::Code(KECCAK_EMPTY, None)));
            writes.push((Location::StorageReset(address), Value::StorageReset));
            continue;
        }
        let mut balance = account.info.balance;
        if is_coinbase && !reward_paid {
            balance += reward.unwrap_or_default();
            reward_paid = true;
        }
        let basic = Some((balance, account.info.nonce));
        if db.basic_value(address) != Some(basic) || is_coinbase {
            writes.push((Location::Basic(address), Value::Basic(basic)));
        }
        if db.code_value(address) != Some(account.info.code_hash) {
            writes.push((
                Location::Code(address),
                Value::Code(account.info.code_hash, account.info.code.clone()),
            ));
        }
        let created = account.is_created();
        if created {
            writes.push((Location::StorageReset(address), Value::StorageReset));
        }
        for (slot, value) in &account.storage {
            if value.is_changed() || (created && !value.present_value.is_zero()) {
                writes.push((
                    Location::Storage(address, *slot),
                    Value::Storage(value.present_value),
                ));
            }
        }
    }
    if !reward_paid {
        writes.push((
            Location::Basic(coinbase),
            Value::BalanceDelta {
                add: reward.unwrap_or_default(),
                sub: U256::ZERO,
                nonce_incr: 0,
            },
        ));
    }
    writes
}
