//! A bounded walk over what a client sends (a y-protocols message, a Yjs v1 update), made before
//! yrs decodes a byte of it.
//!
//! yrs 0.28 decodes `Any` values (lib0's binary JSON) recursively without a depth limit: a 13 KB
//! update holding an array nested 6,500 deep overflows a runtime thread's stack, which aborts
//! the whole process (a stack overflow is not a panic, so `catch_unwind` cannot stop it). This
//! walk follows yrs's own decoder (`Update::decode`, `Block` and `ItemContent::decode`,
//! `Any::decode`, `StateVector::decode`, `AwarenessUpdate::decode`, the v1 `Decoder`) field by
//! field, iteratively for the structure and recursively only within a bounded depth, so the
//! bytes yrs is handed afterwards are known to stay within [`MAX_ANY_DEPTH`]. It also counts
//! what applying an update costs (its structs and delete ranges), checks every declared count
//! against the bytes that remain (a few bytes may not announce a billion elements, which yrs
//! would try to reserve), and refuses varints longer than yrs reads without overflowing.
//!
//! It mirrors yrs exactly, quirks included (a JSON content of length `n` holds `n + 1` strings in
//! yrs's reader), because what matters is that it reads the bytes the way the decoder that runs
//! next will. Hand-written because no crate offers a validator for lib0 v1; yrs is pinned
//! exactly (`=0.28.1`) so this walk and its decoder cannot drift apart unnoticed, and the fuzz
//! test in `tests/scan_fuzz.rs` compares the two on random and mutated input.

/// Deepest nesting of `Any` arrays and maps accepted, as serde_json's default recursion limit
/// (which yrs's JSON contents already meet). Real documents nest a few levels.
pub const MAX_ANY_DEPTH: u32 = 128;

/// What applying an update may cost, at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateBudget {
    /// Structs (items, GC and skip ranges) one update may carry.
    pub max_structs: u64,
    /// Ranges in one update's delete set.
    pub max_delete_ranges: u64,
}

impl Default for UpdateBudget {
    /// Measured with yrs 0.28.1 in a release build on this project's 2-core machine: 200,000
    /// structs (an array of prepends, 3.4 MB) decode and apply in 53–64 ms; deleting 50,000
    /// one-character ranges of an existing text takes 109 ms, and the cost grows faster than the
    /// count (100,000: 290 ms), since each range splits an item. Typing, pasting and importing
    /// stay far below both.
    fn default() -> Self {
        Self { max_structs: 200_000, max_delete_ranges: 50_000 }
    }
}

/// What one update holds, counted by [`update`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateCost {
    pub n_structs: u64,
    pub n_delete_ranges: u64,
}

impl UpdateCost {
    /// One number to compare against a threshold: every struct and every range costs one.
    pub fn units(&self) -> u64 {
        self.n_structs + self.n_delete_ranges
    }
}

/// Why a message was refused before decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("message ends early")]
    Truncated,
    #[error("malformed: {0}")]
    Malformed(&'static str),
    #[error("a count of {count} cannot fit in the {remaining} bytes left")]
    CountTooLarge { count: u64, remaining: usize },
    #[error("values nested deeper than {MAX_ANY_DEPTH}")]
    TooDeep,
    #[error("update carries more than {max} structs")]
    TooManyStructs { max: u64 },
    #[error("update deletes more than {max} ranges")]
    TooManyDeletes { max: u64 },
}

impl ScanError {
    /// A budget refusal (the message is well formed but too costly) rather than bad bytes.
    pub fn is_over_budget(&self) -> bool {
        matches!(self, Self::TooManyStructs { .. } | Self::TooManyDeletes { .. })
    }
}

/// What a y-protocols message (one websocket frame) holds, as far as the walk looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameShape {
    /// A sync step 2 or update, with its cost.
    Update(UpdateCost),
    /// Anything else that passed the walk.
    Other,
}

// y-protocols message types and sync sub-types (y-protocols/sync.js, awareness.js).
const MSG_SYNC: u32 = 0;
const MSG_AWARENESS: u32 = 1;
const SYNC_STEP1: u32 = 0;
const SYNC_STEP2: u32 = 1;
const SYNC_UPDATE: u32 = 2;

// Block info bits and content refs (yrs `block.rs`).
const BLOCK_GC: u8 = 0;
const BLOCK_SKIP: u8 = 10;
const HAS_ORIGIN: u8 = 0b1000_0000;
const HAS_RIGHT_ORIGIN: u8 = 0b0100_0000;
const HAS_PARENT_SUB: u8 = 0b0010_0000;

/// Walks one frame. Messages other than sync and awareness carry no update or `Any` and are
/// left to yrs.
pub fn frame(bytes: &[u8], budget: &UpdateBudget) -> Result<FrameShape, ScanError> {
    let mut r = Reader::new(bytes);
    // `read_var::<u8>` in yrs: a u32 varint that must fit a byte.
    let tag = r.var_u32()?;
    if tag > u32::from(u8::MAX) {
        return Err(ScanError::Malformed("message type"));
    }
    match tag {
        MSG_SYNC => {
            let sub = r.var_u32()?;
            let payload = r.buf()?;
            match sub {
                SYNC_STEP1 => state_vector(payload).map(|()| FrameShape::Other),
                SYNC_STEP2 | SYNC_UPDATE => update(payload, budget).map(FrameShape::Update),
                _ => Err(ScanError::Malformed("sync message type")),
            }
        }
        MSG_AWARENESS => awareness(r.buf()?).map(|()| FrameShape::Other),
        _ => Ok(FrameShape::Other),
    }
}

/// Walks a Yjs v1 update (`Update::decode`) and counts what applying it costs.
pub fn update(bytes: &[u8], budget: &UpdateBudget) -> Result<UpdateCost, ScanError> {
    let mut r = Reader::new(bytes);
    let mut cost = UpdateCost::default();
    // Each client section is at least three varints: its struct count, client and clock.
    let n_clients = r.count_u32(3)?;
    for _ in 0..n_clients {
        let n_blocks = r.count_u32(1)?;
        r.client()?;
        // yrs adds each block's length to a u32 clock (`clock += block.len()`), which must not
        // overflow (a panic in a debug build, a wrong id in a release one). A string counts its
        // bytes here, an upper bound, so this may refuse a little early: past four billion.
        let mut clock = u64::from(r.var_u32()?);
        cost.n_structs += n_blocks;
        if cost.n_structs > budget.max_structs {
            return Err(ScanError::TooManyStructs { max: budget.max_structs });
        }
        for _ in 0..n_blocks {
            clock += block(&mut r)?;
            if clock > u64::from(u32::MAX) {
                return Err(ScanError::Malformed("clock overflow"));
            }
        }
    }
    // The delete set (`IdSet::decode`): per client, its ranges of (clock, len).
    let n_clients = r.count_u32(2)?;
    for _ in 0..n_clients {
        r.client()?;
        let n_ranges = r.count_u32(2)?;
        cost.n_delete_ranges += n_ranges;
        if cost.n_delete_ranges > budget.max_delete_ranges {
            return Err(ScanError::TooManyDeletes { max: budget.max_delete_ranges });
        }
        for _ in 0..n_ranges {
            r.skip_var()?;
            r.skip_var()?;
        }
    }
    Ok(cost)
}

/// One struct (`Update::decode_block`, then `ItemContent::decode`); returns its length in
/// clock ticks, as yrs's `Block::len` counts it.
fn block(r: &mut Reader<'_>) -> Result<u64, ScanError> {
    let info = r.u8()?;
    match info {
        BLOCK_SKIP | BLOCK_GC => {
            let len = r.var_u32()?;
            if len == 0 {
                return Err(ScanError::Malformed("empty block"));
            }
            return Ok(u64::from(len));
        }
        _ => {}
    }
    let cant_copy_parent_info = info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0;
    if info & HAS_ORIGIN != 0 {
        r.id()?;
    }
    if info & HAS_RIGHT_ORIGIN != 0 {
        r.id()?;
    }
    if cant_copy_parent_info {
        if r.var_u32()? == 1 {
            r.buf()?; // a root type's name
        } else {
            r.id()?; // the parent item
        }
        if info & HAS_PARENT_SUB != 0 {
            r.buf()?;
        }
    }
    match info & 0b1111 {
        // Deleted: a length.
        1 => r.var_u32().map(u64::from),
        // JSON: yrs reads `len + 1` strings (`while remaining >= 0`); a length that is negative
        // as an i32 fails its reservation.
        2 => {
            let len = r.var_u32()?;
            let Ok(len) = i32::try_from(len) else {
                return Err(ScanError::Malformed("json content length"));
            };
            let n = r.count(u64::try_from(len).unwrap_or(0) + 1, 1)?;
            for _ in 0..n {
                r.buf()?;
            }
            Ok(n)
        }
        // String: as long as its UTF-16 code units (the offsets Yjs counts in), which are never
        // more than its bytes. The byte length bounds the clock without reading the text (yrs
        // checks its UTF-8 next): counting exactly made the walk half the cost of receiving a
        // 100 KB paste.
        4 => r.buf().map(|text| text.len() as u64),
        // Binary, Embed (a JSON string, parsed with serde_json's depth limit).
        3 | 5 => r.buf().map(|_| 1),
        // Format: a key and a JSON string.
        6 => {
            r.buf()?;
            r.buf().map(|_| 1)
        }
        // Type: a one-byte type ref; an XML element's carries its name. Weak links are a yrs
        // feature this build does not enable, so yrs refuses them too.
        7 => match r.u8()? {
            3 => r.buf().map(|_| 1),
            0 | 1 | 2 | 4 | 5 | 6 | 9 | 15 => Ok(1),
            _ => Err(ScanError::Malformed("type ref")),
        },
        // Any: a count of values.
        8 => {
            let n = r.count_u32(1)?;
            for _ in 0..n {
                any(r, 0)?;
            }
            Ok(n)
        }
        // Subdocument: a guid and its options as one `Any`.
        9 => {
            r.buf()?;
            any(r, 0).map(|()| 1)
        }
        _ => Err(ScanError::Malformed("content ref")),
    }
}

/// One lib0 `Any` (`Any::decode`), at most [`MAX_ANY_DEPTH`] containers deep.
fn any(r: &mut Reader<'_>, depth: u32) -> Result<(), ScanError> {
    match r.u8()? {
        // undefined, null, false, true
        127 | 126 | 121 | 120 => Ok(()),
        125 => r.skip_var_signed(),
        124 => r.skip(4),
        123 | 122 => r.skip(8),
        119 | 116 => r.buf().map(drop),
        tag @ (118 | 117) => {
            if depth >= MAX_ANY_DEPTH {
                return Err(ScanError::TooDeep);
            }
            let is_map = tag == 118;
            let n = r.count_u64(if is_map { 2 } else { 1 })?;
            for _ in 0..n {
                if is_map {
                    r.buf()?;
                }
                any(r, depth + 1)?;
            }
            Ok(())
        }
        _ => Err(ScanError::Malformed("value type")),
    }
}

/// A state vector (`StateVector::decode`): pairs of client and clock.
fn state_vector(bytes: &[u8]) -> Result<(), ScanError> {
    let mut r = Reader::new(bytes);
    let n = r.count_u32(2)?;
    for _ in 0..n {
        r.client()?;
        r.skip_var()?;
    }
    Ok(())
}

/// An awareness update (`AwarenessUpdate::decode`): client, clock and a JSON string each.
fn awareness(bytes: &[u8]) -> Result<(), ScanError> {
    let mut r = Reader::new(bytes);
    let n = r.count_u64(3)?;
    for _ in 0..n {
        r.client()?;
        r.skip_var()?;
        r.buf()?;
    }
    Ok(())
}

/// lib0 v1 primitives, read as yrs reads them.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// yrs stops reading a varint after 70 bits (`read_var_u64`, `read_var_u32`).
const MAX_VAR_BITS: u32 = 70;

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn u8(&mut self) -> Result<u8, ScanError> {
        let b = *self.bytes.get(self.pos).ok_or(ScanError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn skip(&mut self, n: usize) -> Result<(), ScanError> {
        if self.remaining() < n {
            return Err(ScanError::Truncated);
        }
        self.pos += n;
        Ok(())
    }

    /// `read_var_u64`: 7 bits a byte, little end first, wrapping.
    fn var_u64(&mut self) -> Result<u64, ScanError> {
        let mut num = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            num |= u64::wrapping_shl(u64::from(b & 0x7f), shift);
            shift += 7;
            if b < 0x80 {
                return Ok(num);
            }
            if shift > MAX_VAR_BITS {
                return Err(ScanError::Malformed("varint too long"));
            }
        }
    }

    /// `read_var_u32`: the same bytes, wrapping as a u32 does (shifts modulo 32).
    fn var_u32(&mut self) -> Result<u32, ScanError> {
        let mut num = 0u32;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            num |= u32::wrapping_shl(u32::from(b & 0x7f), shift);
            shift += 7;
            if b < 0x80 {
                return Ok(num);
            }
            if shift > MAX_VAR_BITS {
                return Err(ScanError::Malformed("varint too long"));
            }
        }
    }

    fn skip_var(&mut self) -> Result<(), ScanError> {
        self.var_u64().map(drop)
    }

    /// `read_var_i64`: 6 bits in the first byte, then 7. Past nine more bytes yrs shifts by 64
    /// or more, which panics in a debug build and is garbage in a release one: refused.
    fn skip_var_signed(&mut self) -> Result<(), ScanError> {
        if self.u8()? < 0x80 {
            return Ok(());
        }
        for _ in 0..9 {
            if self.u8()? < 0x80 {
                return Ok(());
            }
        }
        Err(ScanError::Malformed("signed varint too long"))
    }

    /// A length-prefixed byte string (`read_buf`, `read_string`).
    fn buf(&mut self) -> Result<&'a [u8], ScanError> {
        let len = self.var_u32()? as usize;
        if self.remaining() < len {
            return Err(ScanError::Truncated);
        }
        let start = self.pos;
        self.pos += len;
        Ok(&self.bytes[start..self.pos])
    }

    /// An ID: client and clock.
    fn id(&mut self) -> Result<(), ScanError> {
        self.client()?;
        self.skip_var()
    }

    /// A client id. Yjs's are 53-bit at most (JavaScript's safe integers); yrs keeps a flag in
    /// the bits above, so a larger one would alias another client (and trips a debug assertion).
    fn client(&mut self) -> Result<(), ScanError> {
        if self.var_u64()? >> 53 != 0 {
            return Err(ScanError::Malformed("client id over 53 bits"));
        }
        Ok(())
    }

    /// A count read as yrs reads it with `read_var::<u32>`, checked by [`Self::count`].
    fn count_u32(&mut self, min_bytes: u64) -> Result<u64, ScanError> {
        let count = self.var_u32()?;
        self.count(u64::from(count), min_bytes)
    }

    /// A count read as yrs reads it with `read_var::<usize>`, checked by [`Self::count`].
    fn count_u64(&mut self, min_bytes: u64) -> Result<u64, ScanError> {
        let count = self.var_u64()?;
        self.count(count, min_bytes)
    }

    /// A declared element count, refused when its elements (each at least `min_bytes` long)
    /// could not fit in what is left.
    fn count(&self, count: u64, min_bytes: u64) -> Result<u64, ScanError> {
        let remaining = self.remaining();
        if count.saturating_mul(min_bytes) > remaining as u64 {
            return Err(ScanError::CountTooLarge { count, remaining });
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Any, Array, Doc, Map, ReadTxn, Text, Transact, XmlFragment, XmlTextPrelim};

    fn budget() -> UpdateBudget {
        UpdateBudget::default()
    }

    fn var(out: &mut Vec<u8>, mut n: u64) {
        while n >= 0x80 {
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    /// The update from the report: one `Any` array nested `depth` deep under root "arr".
    pub(crate) fn nested_update(depth: usize) -> Vec<u8> {
        let mut u = vec![1, 1];
        var(&mut u, 7); // client
        u.extend([0, 8, 1, 3]);
        u.extend(b"arr");
        u.push(1);
        for _ in 0..depth {
            u.extend([117, 1]);
        }
        u.extend([126, 0]);
        u
    }

    #[test]
    fn deep_nesting_is_refused_and_shallow_nesting_passes() {
        assert_eq!(update(&nested_update(10_000), &budget()), Err(ScanError::TooDeep));
        assert_eq!(
            update(&nested_update(MAX_ANY_DEPTH as usize + 1), &budget()),
            Err(ScanError::TooDeep)
        );
        let ok = nested_update(MAX_ANY_DEPTH as usize);
        assert_eq!(update(&ok, &budget()).unwrap().n_structs, 1);
        // yrs agrees that the accepted one is a valid update.
        let doc = Doc::new();
        doc.transact_mut()
            .apply_update(<yrs::Update as yrs::updates::decoder::Decode>::decode_v1(&ok).unwrap())
            .unwrap();
    }

    /// Real updates of every content kind pass, and their counts are right.
    #[test]
    fn real_updates_pass() {
        let doc = Doc::new();
        let text = doc.get_or_insert_text("t");
        let map = doc.get_or_insert_map("m");
        let arr = doc.get_or_insert_array("a");
        let xml = doc.get_or_insert_xml_fragment("document-store");
        {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 0, "hello world");
            text.format(&mut txn, 0, 5, [("bold".into(), Any::Bool(true))].into());
            text.insert_embed(&mut txn, 3, Any::from(vec![Any::from(1.5), Any::Null]));
            text.remove_range(&mut txn, 6, 2);
            map.insert(&mut txn, "n", Any::from(vec![Any::from("x"), Any::from(i64::MAX)]));
            map.insert(&mut txn, "buf", Any::Buffer(vec![1u8, 2, 3].into()));
            arr.insert(&mut txn, 0, -42i64);
            arr.insert(&mut txn, 1, 3.25f64);
            let el = xml.insert(&mut txn, 0, yrs::XmlElementPrelim::empty("paragraph"));
            el.insert(&mut txn, 0, XmlTextPrelim::new("para"));
        }
        let bytes = doc.transact().encode_state_as_update_v1(&Default::default());
        let cost = update(&bytes, &budget()).unwrap();
        assert!(cost.n_structs >= 8, "{cost:?}");
        assert_eq!(cost.n_delete_ranges, 1);
    }

    #[test]
    fn budgets_refuse_costly_updates() {
        let doc = Doc::new();
        let text = doc.get_or_insert_text("t");
        {
            let mut txn = doc.transact_mut();
            for _ in 0..100 {
                text.insert(&mut txn, 0, "ab");
                text.remove_range(&mut txn, 1, 1);
            }
        }
        let bytes = doc.transact().encode_state_as_update_v1(&Default::default());
        let cost = update(&bytes, &budget()).unwrap();
        let tight = UpdateBudget { max_structs: cost.n_structs - 1, ..budget() };
        assert!(matches!(update(&bytes, &tight), Err(ScanError::TooManyStructs { .. })));
        let tight = UpdateBudget { max_delete_ranges: cost.n_delete_ranges - 1, ..budget() };
        assert!(matches!(update(&bytes, &tight), Err(ScanError::TooManyDeletes { .. })));
    }

    #[test]
    fn huge_declared_counts_are_refused() {
        // Two clients announcing 2^31 structs in a 10-byte update.
        let mut u = Vec::new();
        var(&mut u, 1);
        var(&mut u, 1 << 31);
        u.extend([1, 0, 0, 0]);
        assert!(matches!(update(&u, &budget()), Err(ScanError::CountTooLarge { .. })));
        // A sync step 1 announcing 2^28 clients.
        let mut f = vec![0, 0, 5];
        var(&mut f, 1 << 28);
        assert!(matches!(frame(&f, &budget()), Err(ScanError::CountTooLarge { .. })));
    }

    #[test]
    fn frames_are_walked_by_type() {
        let doc = Doc::new();
        let text = doc.get_or_insert_text("t");
        text.push(&mut doc.transact_mut(), "x");
        let u = doc.transact().encode_state_as_update_v1(&Default::default());
        let shape = frame(&crate::message::update(&u), &budget()).unwrap();
        assert_eq!(shape, FrameShape::Update(UpdateCost { n_structs: 1, n_delete_ranges: 0 }));
        let step1 = crate::message::sync_step1(&doc.transact().state_vector());
        assert_eq!(frame(&step1, &budget()).unwrap(), FrameShape::Other);
        let deep = crate::message::update(&nested_update(1_000));
        assert_eq!(frame(&deep, &budget()), Err(ScanError::TooDeep));
        assert_eq!(frame(&[], &budget()), Err(ScanError::Truncated));
    }

    #[test]
    fn text_of_a_big_paste_costs_one_struct() {
        let doc = Doc::new();
        let text = doc.get_or_insert_text("t");
        text.push(&mut doc.transact_mut(), &"word ".repeat(10_000));
        let u = doc.transact().encode_state_as_update_v1(&Default::default());
        assert_eq!(update(&u, &budget()).unwrap().units(), 1);
    }
}
