//! One transaction, executed by revm against the multi-version memory: what
//! it read (for validation), what it wrote, and its result.
//!
//! Lazy updates: the beneficiary's fee is never written by the transaction
//! itself (the handler defers it, see `DeferredReward`; the memory keeps it
//! per transaction), and the transfers `lazy` picks run against mock
//! balances, recording deltas instead of reading balances.

use super::code_copies::CodeCopies;
use super::keccak_memo::{self, KeccakMemo};
use super::lazy::{LazyTokenTransfer, LazyTransfer, MOCK_SENDER_BALANCE};
use super::memory::{
    note_own_writes, Basic, Blocked, KeptRead, Location, MvMemory, Read, ReadValue, TxIdx, Value,
};
use super::spare::{TxLists, Writes};
use crate::output::Receipt;
use crate::prestate::account_info;
use crate::{Block, LazyToken, PreState};
use revm::bytecode::Bytecode;
use revm::context::result::{EVMError, HaltReason};
use revm::context::Context;
use revm::context::{Cfg, CfgEnv, ContextSetters, ContextTr, Transaction, TxEnv};
use revm::database_interface::{DBErrorMarker, Database, DatabaseRef};
use revm::handler::{
    EvmTr, FrameResult, Handler, MainBuilder, MainContext, MainnetContext, MainnetEvm,
};
use revm::primitives::hardfork::SpecId;
use revm::primitives::map::DefaultHashBuilder;
use revm::primitives::{Address, B256, KECCAK_EMPTY, U256};
use revm::state::{AccountInfo, EvmState};
use std::cell::Cell;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub(crate) enum MvError {
    #[error("read an estimate of transaction {0}")]
    Blocked(TxIdx),
    /// The sender's nonce read is below the transaction's own: its previous
    /// transaction, `.0`, has not been applied yet.
    #[error("the sender's previous transaction {0} has not run yet")]
    SenderBehind(TxIdx),
}
impl DBErrorMarker for MvError {}

/// The database revm sees while executing transaction `tx`.
pub(crate) struct MvDb<'a> {
    mv: &'a MvMemory<'a>,
    pre: &'a PreState,
    transactions: &'a [TxEnv],
    tx: TxIdx,
    nonce: u64,
    /// The sender, while a nonce behind its own stops the transaction.
    waits_for: Option<Address>,
    pub(super) lazy: Option<LazyTransfer>,
    pub(super) lazy_codes: [(B256, Option<Bytecode>); 2],
    lazy_token: Option<LazyTokenTransfer>,
    /// The balance slots a lazy token transfer hashed, for the EVM's KECCAK256.
    pub(super) keccak_memo: KeccakMemo,
    code_copies: CodeCopies,
    reads: Vec<Read>,
    /// Headroom mode: every transaction a read took its value from.
    writers: Option<Vec<TxIdx>>,
}

impl<'a> MvDb<'a> {
    /// See [`MvMemory::prefetch_location`].
    pub(super) fn prefetch_location(&self, loc: &Location) {
        self.mv.prefetch_location(loc);
    }

    fn record(&mut self, loc: Location, value: ReadValue, from_pre: bool) {
        self.reads.push(Read {
            loc,
            value,
            from_pre,
            also_written: false,
        });
    }

    /// A lazy transfer's account's code (none: the worker's empty code),
    /// moved out for revm's account rather than cloned: each clone and drop
    /// of the code is an atomic, which waits for every store before it.
    fn lazy_code(&mut self, account: usize) -> (B256, Option<Bytecode>) {
        let (hash, code) = &mut self.lazy_codes[account];
        let code = code
            .take()
            .or_else(|| self.code_copies.code_of(*hash, None));
        (*hash, code)
    }

    fn writers(&mut self) -> Option<&mut Vec<TxIdx>> {
        self.writers.as_mut()
    }

    pub(super) fn code(&mut self, address: Address) -> Result<(B256, Option<Bytecode>), MvError> {
        let (mv, copies) = (self.mv, &mut self.code_copies);
        let writers = self.writers.as_mut();
        let ((hash, code), from_pre) = mv
            .read_code(self.tx, address, writers, |hash, code| {
                copies.code_of(hash, code)
            })
            .map_err(|Blocked(b)| MvError::Blocked(b))?;
        self.record(Location::Code(address), ReadValue::Code(hash), from_pre);
        Ok((hash, code))
    }

    /// A storage slot read only for a lazy token transfer's condition. Its
    /// writers are no dependency for the headroom: while the condition
    /// holds, the transaction need not wait for them.
    pub(super) fn storage_for_condition(
        &mut self,
        address: Address,
        slot: U256,
    ) -> Result<(U256, bool, usize), MvError> {
        self.mv
            .read_storage(self.tx, address, slot, None)
            .map_err(|Blocked(b)| MvError::Blocked(b))
    }

    pub(super) fn record_condition(
        &mut self,
        address: Address,
        slot: U256,
        value: ReadValue,
        from_pre: bool,
    ) {
        self.record(Location::Storage(address, slot), value, from_pre);
    }

    /// Stops a transaction whose sender's nonce is behind its own on the
    /// sender's previous transaction in the block. Failing on the nonce
    /// instead writes nothing, so the next transaction of a nonce chain
    /// reads the same stale nonce, fails too, and every success below
    /// re-executes the whole rest of the chain: 32 calls from one sender at
    /// the end of block 4370000 ran 15-20 times each.
    fn check_sender(&self, address: Address, basic: Basic) -> Result<(), MvError> {
        if self.waits_for != Some(address) || basic.map_or(0, |(_, n)| n) >= self.nonce {
            return Ok(());
        }
        match self.transactions[..self.tx]
            .iter()
            .rposition(|t| t.caller == address)
        {
            Some(previous) => Err(MvError::SenderBehind(previous)),
            // None in the block: the nonce is wrong, as revm will say.
            None => Ok(()),
        }
    }
}

/// The most comparisons a scan may take before a lookup table is built.
pub(crate) const SCAN_STEPS: usize = 4096;

/// What a transaction read of each account's balance and code, to leave
/// out of its writes what it did not change: a scan of its reads for the
/// usual handful, a map once it read many (a 2016 block's transaction
/// touched thousands of accounts, and scanned every read for each).
enum AccountReads<'r> {
    Few(&'r [Read]),
    Many(HashMap<Address, AccountRead, DefaultHashBuilder>),
}

/// An account's first balance and code reads.
type AccountRead = (Option<Basic>, Option<B256>);

/// Takes `read` into `seen` where it is the first of its kind.
fn note_read(seen: &mut AccountRead, read: &Read) {
    match (read.loc, &read.value) {
        (Location::Basic(_), ReadValue::Basic(b)) => {
            seen.0.get_or_insert(*b);
        }
        (Location::Code(_), ReadValue::Code(h)) => {
            seen.1.get_or_insert(*h);
        }
        _ => {}
    }
}

fn account_of(read: &Read) -> Option<Address> {
    match read.loc {
        Location::Basic(a) | Location::Code(a) => Some(a),
        _ => None,
    }
}

impl<'r> AccountReads<'r> {
    /// `accounts` is how many accounts will be asked about: scans up to
    /// about this many steps in all cost less than building the map.
    fn of(reads: &'r [Read], accounts: usize) -> Self {
        if reads.len().saturating_mul(accounts) <= SCAN_STEPS {
            return Self::Few(reads);
        }
        let mut map = HashMap::with_capacity_and_hasher(reads.len(), DefaultHashBuilder::default());
        for read in reads {
            if let Some(address) = account_of(read) {
                note_read(map.entry(address).or_default(), read);
            }
        }
        Self::Many(map)
    }

    /// The account's first balance and code reads.
    fn get(&self, address: Address) -> AccountRead {
        match self {
            Self::Few(reads) => {
                let mut seen = AccountRead::default();
                for read in reads.iter().filter(|r| account_of(r) == Some(address)) {
                    note_read(&mut seen, read);
                }
                seen
            }
            Self::Many(map) => map.get(&address).copied().unwrap_or_default(),
        }
    }
}

fn info(balance: U256, nonce: u64, (code_hash, code): (B256, Option<Bytecode>)) -> AccountInfo {
    account_info(balance, nonce, code_hash, code)
}

impl Database for MvDb<'_> {
    type Error = MvError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, MvError> {
        if let Some(lazy) = self.lazy {
            if address == lazy.sender {
                let code = self.lazy_code(0);
                return Ok(Some(info(MOCK_SENDER_BALANCE, self.nonce, code)));
            }
            if address == lazy.recipient {
                return Ok(Some(info(U256::ZERO, 0, self.lazy_code(1))));
            }
        }
        let mv = self.mv;
        let (basic, from_pre) = mv
            .read_basic(self.tx, address, self.writers())
            .map_err(|Blocked(b)| MvError::Blocked(b))?;
        self.check_sender(address, basic)?;
        self.record(Location::Basic(address), ReadValue::Basic(basic), from_pre);
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
        if let Some(mock) = self
            .lazy_token
            .as_ref()
            .and_then(|t| t.mock(address, index))
        {
            return Ok(mock);
        }
        let mv = self.mv;
        let (value, from_pre, _) = mv
            .read_storage(self.tx, address, index, self.writers())
            .map_err(|Blocked(b)| MvError::Blocked(b))?;
        self.record(
            Location::Storage(address, index),
            ReadValue::Storage(value),
            from_pre,
        );
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
    /// Its receipt (cumulative gas filled in by the fold), made on the
    /// thread that ran it, which frees its return data there. Err: revm
    /// refused the transaction (maybe only because of a stale read).
    pub result: Result<Receipt, String>,
    pub reads: Vec<KeptRead>,
    /// Where it wrote; what it wrote is recorded in the memory.
    pub written: Vec<Location>,
    /// The worker that ran it, which takes its lists back.
    pub worker: usize,
}

/// An incarnation that ran to its end: what its transaction's slot keeps
/// until the block's end, and what is recorded elsewhere at once.
pub(crate) struct Execution {
    pub outcome: TxOutcome,
    /// The beneficiary's fee this transaction still owes: kept out of the
    /// multi-version locations so transactions do not all write one.
    pub fee: U256,
    /// In order, the transactions its reads took their values from (only
    /// run in `Mode::InOrder`; empty otherwise).
    pub writers: Vec<TxIdx>,
}

/// Why an incarnation stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// It read an estimate of this transaction.
    Estimate(TxIdx),
    /// Its sender's nonce is behind: this, the sender's previous
    /// transaction, has not run yet.
    SenderBehind(TxIdx),
}

/// How an incarnation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// In block order, every read final: collect the writers read from.
    InOrder,
    /// Optimistically, stopping at a sender's nonce that is behind where
    /// `wait_on_sender`.
    Optimistic { wait_on_sender: bool },
}

impl From<MvError> for Wait {
    fn from(e: MvError) -> Self {
        match e {
            MvError::Blocked(b) => Wait::Estimate(b),
            MvError::SenderBehind(p) => Wait::SenderBehind(p),
        }
    }
}

/// A worker's revm instance, built once per thread and reused for every task.
pub(crate) struct TxExecutor<'a> {
    evm: MvEvm<'a>,
    /// Reused for every task; each outcome gets its writes moved out.
    writes: Writes,
    /// The thread's read and write lists, kept from block to block.
    spare: TxLists,
    coinbase: Address,
    lazy_tokens: &'a [LazyToken],
}

impl Drop for TxExecutor<'_> {
    fn drop(&mut self) {
        std::mem::take(&mut self.spare).keep_for_this_thread();
    }
}

impl<'a> TxExecutor<'a> {
    pub(crate) fn new(
        mv: &'a MvMemory<'a>,
        pre: &'a PreState,
        block: &'a Block,
        cfg: &CfgEnv,
        lazy_tokens: &'a [LazyToken],
    ) -> Self {
        let db = MvDb {
            mv,
            pre,
            transactions: &block.transactions,
            tx: 0,
            nonce: 0,
            waits_for: None,
            lazy: None,
            lazy_codes: Default::default(),
            lazy_token: None,
            keccak_memo: KeccakMemo::default(),
            code_copies: CodeCopies::default(),
            reads: Vec::new(),
            writers: None,
        };
        let mut evm = Context::mainnet()
            .with_db(db)
            .with_block(block.context.env.clone())
            .with_cfg(cfg.clone())
            .build_mainnet();
        keccak_memo::install(&mut evm.instruction);
        Self {
            evm,
            writes: Vec::new(),
            spare: TxLists::of_this_thread(),
            coinbase: block.context.env.beneficiary,
            lazy_tokens,
        }
    }

    /// What the last execution wrote, until the next one: recorded in the
    /// memory by the caller, while its outcome keeps only the locations.
    pub(crate) fn writes(&self) -> &[(Location, Value)] {
        &self.writes
    }

    /// Keeps an outcome's read and write lists for later outcomes.
    pub(crate) fn give_back(&mut self, outcome: &mut TxOutcome) {
        self.spare.give_back_of(outcome);
    }

    /// Executes transaction `index`; Err when it has to wait.
    pub(crate) fn execute(&mut self, index: TxIdx, mode: Mode) -> Result<Execution, Wait> {
        let tx = &self.evm.ctx.journaled_state.database.transactions[index];
        {
            let db = &mut self.evm.ctx.journaled_state.database;
            db.tx = index;
            db.nonce = tx.nonce;
            db.waits_for = match mode {
                Mode::Optimistic {
                    wait_on_sender: true,
                } => Some(tx.caller),
                _ => None,
            };
            db.lazy = None;
            db.lazy_token = None;
            db.reads.clear();
            db.writers = (mode == Mode::InOrder).then(Vec::new);
        }
        {
            let db = &mut self.evm.ctx.journaled_state.database;
            let cfg = &self.evm.ctx.cfg;
            LazyTransfer::choose(tx, self.coinbase, cfg, db)?;
            if db.lazy.is_none() {
                db.lazy_token = LazyTokenTransfer::choose(tx, self.lazy_tokens, db)?;
            }
        }
        self.evm.ctx.set_tx(tx.clone());
        let handler = DeferredReward {
            reward: Cell::new(None),
            _evm: std::marker::PhantomData,
        };
        let mut handler = handler;
        let run = handler.run(&mut self.evm);
        let state = revm::handler::ExecuteEvm::finalize(&mut self.evm);
        let result = match run {
            Ok(r) => Ok(Receipt {
                success: r.is_success(),
                gas_used: r.tx_gas_used(),
                cumulative_gas_used: 0,
                logs: r.into_logs(),
            }),
            Err(EVMError::Database(e)) => return Err(e.into()),
            Err(e) => Err(e.to_string()),
        };
        let db = &mut self.evm.ctx.journaled_state.database;
        let reward = if result.is_ok() {
            handler.reward.get()
        } else {
            None
        };
        let writes = &mut self.writes;
        writes.clear();
        let fee = if result.is_ok() {
            let fee = writes_of(&state, db, reward, self.coinbase, writes);
            if let Some(token) = db.lazy_token {
                token.into_deltas(writes);
            }
            note_own_writes(&mut db.reads, writes);
            fee
        } else {
            U256::ZERO
        };
        Ok(Execution {
            outcome: TxOutcome {
                result,
                reads: self.spare.reads(&mut db.reads),
                written: self.spare.written(writes),
                worker: 0,
            },
            fee,
            writers: db.writers.take().unwrap_or_default(),
        })
    }
}

/// Appends the locations an incarnation wrote to `writes`, mirroring what
/// `CacheDB::commit` would change, minus values equal to what the
/// transaction itself read; returns the fee it still owes the beneficiary
/// (zero when it wrote the beneficiary in full, fee included).
fn writes_of(
    state: &EvmState,
    db: &MvDb<'_>,
    reward: Option<U256>,
    coinbase: Address,
    writes: &mut Vec<(Location, Value)>,
) -> U256 {
    let mut reward_paid = reward.is_none();
    let read = AccountReads::of(&db.reads, state.len());
    for (address, account) in state {
        let address = *address;
        if let Some(lazy) = db.lazy {
            if address == lazy.sender {
                // A call bumps its sender's nonce by one: the debit does.
                debug_assert_eq!(account.info.nonce, db.nonce + 1);
                writes.push((
                    Location::Basic(address),
                    Value::Debit {
                        spent: MOCK_SENDER_BALANCE - account.info.balance,
                        needs: lazy.needs,
                    },
                ));
                continue;
            }
            if address == lazy.recipient {
                writes.push((
                    Location::Basic(address),
                    Value::Credit(account.info.balance),
                ));
                continue;
            }
        }
        let is_coinbase = address == coinbase;
        if !account.is_touched() {
            if is_coinbase && !reward_paid {
                // Loaded (read) but unchanged: the fee makes it a full write.
                if let Some(basic) = read.get(address).0 {
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
            writes.push((Location::Code(address), Value::Code(KECCAK_EMPTY)));
            writes.push((Location::StorageReset(address), Value::StorageReset));
            continue;
        }
        let mut balance = account.info.balance;
        if is_coinbase && !reward_paid {
            balance += reward.unwrap_or_default();
            reward_paid = true;
        }
        let basic = Some((balance, account.info.nonce));
        let (basic_read, code_read) = read.get(address);
        if basic_read != Some(basic) || is_coinbase {
            writes.push((Location::Basic(address), Value::Basic(basic)));
        }
        if code_read != Some(account.info.code_hash) {
            db.mv
                .note_code(account.info.code_hash, account.info.code.as_ref());
            writes.push((Location::Code(address), Value::Code(account.info.code_hash)));
        }
        let created = account.is_created();
        if created {
            writes.push((Location::StorageReset(address), Value::StorageReset));
        }
        for (slot, value) in &account.storage {
            if value.is_changed() || (created && !value.present_value.is_zero()) {
                writes.push((
                    Location::Storage(address, *slot),
                    Value::Storage {
                        value: value.present_value,
                        read: value.original_value,
                    },
                ));
            }
        }
    }
    if reward_paid {
        U256::ZERO
    } else {
        reward.unwrap_or_default()
    }
}
