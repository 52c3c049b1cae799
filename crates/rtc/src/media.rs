//! What the SFU reads inside packets it forwards: whether a video packet starts a keyframe (a
//! subscriber can only start or switch layers there) and the audio level a sender reports.

/// The video codecs the SFU forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VideoCodec {
    Vp8,
    H264,
}

impl VideoCodec {
    pub(crate) fn from_mime(mime: &str) -> Option<Self> {
        if mime.eq_ignore_ascii_case("video/vp8") {
            Some(Self::Vp8)
        } else if mime.eq_ignore_ascii_case("video/h264") {
            Some(Self::H264)
        } else {
            None
        }
    }
}

/// Whether an RTP payload is the first packet of a keyframe.
pub(crate) fn starts_keyframe(codec: VideoCodec, payload: &[u8]) -> bool {
    match codec {
        VideoCodec::Vp8 => vp8_starts_keyframe(payload),
        VideoCodec::H264 => h264_has_keyframe(payload),
    }
}

/// RFC 7741 §4.2: the payload descriptor, then (at the start of a partition 0) the VP8 frame
/// header, whose first bit is 0 for a key frame.
fn vp8_starts_keyframe(payload: &[u8]) -> bool {
    let Some(&first) = payload.first() else { return false };
    let extended = first & 0x80 != 0;
    let start = first & 0x10 != 0;
    let partition = first & 0x07;
    if !start || partition != 0 {
        return false;
    }
    let mut at = 1;
    if extended {
        let Some(&x) = payload.get(at) else { return false };
        at += 1;
        if x & 0x80 != 0 {
            // PictureID: 7 or 15 bits.
            let Some(&pid) = payload.get(at) else { return false };
            at += if pid & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            at += 1; // TL0PICIDX
        }
        if x & 0x30 != 0 {
            at += 1; // TID/Y/KEYIDX
        }
    }
    payload.get(at).is_some_and(|&header| header & 0x01 == 0)
}

/// The picture numbering in a VP8 payload descriptor (RFC 7741 §4.2): the PictureID (7 or 15
/// bits) and the TL0PICIDX. Each simulcast layer numbers its pictures from its own random start,
/// and a receiver's frame reference finder reads these numbers to link frames: forwarded as they
/// are across a layer switch, a jump backwards makes every later frame look old, and the
/// subscriber decodes almost nothing while packets keep arriving. So a down track renumbers them
/// (as it does sequence numbers and timestamps) to continue from what it sent before the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Vp8Picture {
    /// The PictureID and whether it is the 15-bit form.
    pub(crate) id: Option<(u16, bool)>,
    pub(crate) tl0: Option<u8>,
}

/// Where a VP8 descriptor's PictureID is (its offset, and whether it is 15 bits) and where its
/// TL0PICIDX is.
type Vp8Fields = (Option<(usize, bool)>, Option<usize>);

/// Byte offsets of the PictureID and TL0PICIDX fields; `None` for a truncated descriptor.
fn vp8_fields(payload: &[u8]) -> Option<Vp8Fields> {
    let first = *payload.first()?;
    if first & 0x80 == 0 {
        return Some((None, None));
    }
    let x = *payload.get(1)?;
    let mut at = 2;
    let mut id = None;
    if x & 0x80 != 0 {
        let wide = payload.get(at)? & 0x80 != 0;
        if wide {
            payload.get(at + 1)?;
        }
        id = Some((at, wide));
        at += if wide { 2 } else { 1 };
    }
    let tl0 = if x & 0x40 != 0 {
        payload.get(at)?;
        Some(at)
    } else {
        None
    };
    Some((id, tl0))
}

/// Reads the picture numbering of a VP8 payload; `None` for a truncated descriptor.
pub(crate) fn vp8_picture(payload: &[u8]) -> Option<Vp8Picture> {
    let (id, tl0) = vp8_fields(payload)?;
    let id = id.map(|(at, wide)| {
        if wide {
            (u16::from_be_bytes([payload[at] & 0x7f, payload[at + 1]]), true)
        } else {
            (u16::from(payload[at] & 0x7f), false)
        }
    });
    Some(Vp8Picture { id, tl0: tl0.map(|at| payload[at]) })
}

/// Adds `id_delta` to the PictureID (modulo its width) and `tl0_delta` to the TL0PICIDX of a VP8
/// payload, in place. A truncated descriptor is left as it is.
pub(crate) fn vp8_renumber(payload: &mut [u8], id_delta: u16, tl0_delta: u8) {
    let Some((id, tl0)) = vp8_fields(payload) else { return };
    if let Some((at, wide)) = id {
        if wide {
            let old = u16::from_be_bytes([payload[at] & 0x7f, payload[at + 1]]);
            let [hi, lo] = (old.wrapping_add(id_delta) & 0x7fff).to_be_bytes();
            payload[at] = 0x80 | hi;
            payload[at + 1] = lo;
        } else {
            payload[at] = (payload[at].wrapping_add(id_delta as u8)) & 0x7f;
        }
    }
    if let Some(at) = tl0 {
        payload[at] = payload[at].wrapping_add(tl0_delta);
    }
}

/// RFC 6184: an IDR slice (5) or a parameter set (7) directly, in a STAP-A (24) or at the start
/// of an FU-A (28).
fn h264_has_keyframe(payload: &[u8]) -> bool {
    let Some(&first) = payload.first() else { return false };
    let is_key = |nal: u8| matches!(nal & 0x1f, 5 | 7);
    match first & 0x1f {
        24 => {
            let mut at = 1;
            while at + 2 < payload.len() {
                let size = usize::from(u16::from_be_bytes([payload[at], payload[at + 1]]));
                if is_key(payload[at + 2]) {
                    return true;
                }
                at += 2 + size;
            }
            false
        }
        28 => payload.get(1).is_some_and(|&fu| fu & 0x80 != 0 && is_key(fu)),
        _ => is_key(first),
    }
}

/// RFC 6464: the audio level extension's one byte, `V` (voice activity) and the level in −dBov
/// (0 loudest, 127 silence). Returns the level.
pub(crate) fn audio_level(extension: &[u8]) -> Option<u8> {
    extension.first().map(|&b| b & 0x7f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vp8_keyframes_are_found_behind_any_descriptor() {
        // Short descriptor, S=1, partition 0; frame header P bit 0: key frame.
        assert!(starts_keyframe(VideoCodec::Vp8, &[0x10, 0x00, 0x9d, 0x01, 0x2a]));
        // Same with P=1: an inter frame.
        assert!(!starts_keyframe(VideoCodec::Vp8, &[0x10, 0x01]));
        // Not the start of the frame.
        assert!(!starts_keyframe(VideoCodec::Vp8, &[0x00, 0x00]));
        // Extended: I (15-bit picture id), L, T/K.
        assert!(starts_keyframe(VideoCodec::Vp8, &[0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x10]));
        assert!(!starts_keyframe(VideoCodec::Vp8, &[0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x11]));
        // Truncated packets are not keyframes, and do not panic.
        assert!(!starts_keyframe(VideoCodec::Vp8, &[0x90, 0x80]));
        assert!(!starts_keyframe(VideoCodec::Vp8, &[]));
    }

    #[test]
    fn vp8_picture_numbers_are_read_and_renumbered_in_place() {
        // X; I (15-bit picture id 0x0123), L (TL0PICIDX 5), T/K.
        let mut p = [0x90, 0xe0, 0x81, 0x23, 0x05, 0x40, 0x10];
        assert_eq!(vp8_picture(&p), Some(Vp8Picture { id: Some((0x0123, true)), tl0: Some(5) }));
        vp8_renumber(&mut p, 0x7fff, 255);
        assert_eq!(vp8_picture(&p), Some(Vp8Picture { id: Some((0x0122, true)), tl0: Some(4) }));
        assert_eq!(&p[5..], &[0x40, 0x10], "the rest is untouched");
        // The 15-bit id wraps within 15 bits.
        let mut p = [0x90, 0x80, 0xff, 0xff, 0x10];
        vp8_renumber(&mut p, 2, 0);
        assert_eq!(vp8_picture(&p), Some(Vp8Picture { id: Some((1, true)), tl0: None }));
        // A 7-bit id wraps within 7 bits.
        let mut p = [0x90, 0x80, 0x7f, 0x10];
        vp8_renumber(&mut p, 3, 0);
        assert_eq!(vp8_picture(&p), Some(Vp8Picture { id: Some((2, false)), tl0: None }));
        // No extension: nothing to renumber.
        assert_eq!(vp8_picture(&[0x10, 0x00]), Some(Vp8Picture { id: None, tl0: None }));
        // Truncated: not read, not touched.
        let mut p = [0x90, 0xc0, 0x81];
        assert_eq!(vp8_picture(&p), None);
        vp8_renumber(&mut p, 1, 1);
        assert_eq!(p, [0x90, 0xc0, 0x81]);
    }

    #[test]
    fn h264_keyframes_are_found_in_single_stap_a_and_fu_a_packets() {
        assert!(starts_keyframe(VideoCodec::H264, &[0x65, 0x88]));
        assert!(!starts_keyframe(VideoCodec::H264, &[0x41, 0x9a]));
        // STAP-A holding an SPS (7) and a PPS (8).
        assert!(starts_keyframe(
            VideoCodec::H264,
            &[0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68]
        ));
        // FU-A: start bit set, type 5.
        assert!(starts_keyframe(VideoCodec::H264, &[0x7c, 0x85, 0x00]));
        // FU-A continuing an IDR is not its start.
        assert!(!starts_keyframe(VideoCodec::H264, &[0x7c, 0x05, 0x00]));
        assert!(!starts_keyframe(VideoCodec::H264, &[0x18, 0x00]));
    }

    #[test]
    fn the_audio_level_ignores_the_voice_bit() {
        assert_eq!(audio_level(&[0x80 | 30]), Some(30));
        assert_eq!(audio_level(&[127]), Some(127));
        assert_eq!(audio_level(&[]), None);
    }
}
