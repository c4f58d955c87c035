//! Sequence-number tracking per exporter and domain: lost and reordered messages, with the
//! 32-bit wrap.

/// What one observed sequence number meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceEvent {
    /// The first number seen.
    First,
    /// The number expected.
    InOrder,
    /// Numbers were skipped: this many are (for now) lost.
    Gap(u32),
    /// An older number arrived late.
    Late,
    /// A jump too large to be loss (exporter restart): tracking starts over.
    Reset,
}

/// Tracks one sequence: RFC 7011's IPFIX sequence counts data records sent before the
/// message, NetFlow v9's counts packets, v5's flows and sFlow's datagrams or samples; the
/// caller says by how much each message advances it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SequenceTracker {
    expected: Option<u32>,
    /// Messages (or records) seen.
    pub received: u64,
    /// Sequence units lost (less those that arrived late).
    pub lost: u64,
    /// Messages that arrived after a later one.
    pub reordered: u64,
    /// Jumps too large to be loss.
    pub resets: u64,
}

/// A forward jump larger than this is taken as an exporter restart, not loss.
pub const MAX_GAP: u32 = 1 << 24;

impl SequenceTracker {
    /// A tracker that has seen nothing.
    pub fn new() -> Self {
        SequenceTracker::default()
    }

    /// The next number expected, once something was seen.
    pub fn expected(&self) -> Option<u32> {
        self.expected
    }

    /// Forgets the expected number, keeping the counters: the next message starts the
    /// sequence over (after a message whose records could not be counted, say).
    pub fn resync(&mut self) {
        self.expected = None;
    }

    /// Records a message with sequence number `seq` that advances the sequence by `advance`.
    pub fn observe(&mut self, seq: u32, advance: u32) -> SequenceEvent {
        self.received += 1;
        let next = seq.wrapping_add(advance);
        let Some(expected) = self.expected else {
            self.expected = Some(next);
            return SequenceEvent::First;
        };
        let diff = seq.wrapping_sub(expected);
        if diff == 0 {
            self.expected = Some(next);
            SequenceEvent::InOrder
        } else if diff < MAX_GAP {
            self.lost += u64::from(diff);
            self.expected = Some(next);
            SequenceEvent::Gap(diff)
        } else if diff.wrapping_neg() < MAX_GAP {
            // Behind what is expected: a late message, counted lost when the gap opened.
            self.reordered += 1;
            self.lost = self.lost.saturating_sub(u64::from(advance.max(1)));
            SequenceEvent::Late
        } else {
            self.resets += 1;
            self.expected = Some(next);
            SequenceEvent::Reset
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_gap_late_and_wrap() {
        let mut t = SequenceTracker::new();
        assert_eq!(t.observe(u32::MAX - 1, 1), SequenceEvent::First);
        assert_eq!(t.observe(u32::MAX, 1), SequenceEvent::InOrder);
        assert_eq!(t.observe(0, 1), SequenceEvent::InOrder, "wraps");
        assert_eq!(t.observe(3, 1), SequenceEvent::Gap(2));
        assert_eq!(t.lost, 2);
        assert_eq!(t.observe(1, 1), SequenceEvent::Late);
        assert_eq!((t.lost, t.reordered), (1, 1));
        assert_eq!(t.observe(4, 10), SequenceEvent::InOrder);
        assert_eq!(
            t.observe(14, 1),
            SequenceEvent::InOrder,
            "advance by records"
        );
        assert_eq!(t.observe(2_000_000_000, 1), SequenceEvent::Reset);
        assert_eq!(t.received, 8);
        t.resync();
        assert_eq!(t.observe(7, 1), SequenceEvent::First);
        assert_eq!((t.lost, t.resets), (1, 1), "counters kept");
    }
}
