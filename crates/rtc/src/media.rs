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
