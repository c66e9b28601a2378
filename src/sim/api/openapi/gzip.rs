//! A gzip member around a deflate stream, for clients that send `Accept-Encoding: gzip`
//! (Go's HTTP client does, and unpacks the answer itself).

/// The CRC-32 gzip's trailer carries (the reflected 0xEDB88320 polynomial).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

pub fn compress(data: &[u8]) -> Vec<u8> {
    // Magic, deflate, no flags, no time, no extra flags, unknown OS.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend(miniz_oxide::deflate::compress_to_vec(data, 6));
    out.extend(crc32(data).to_le_bytes());
    // The input's length modulo 2^32, as the format defines it.
    out.extend((data.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_the_standard_one_and_the_stream_inflates_back() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let text = b"an OpenAPI document, repeated, repeated, repeated".repeat(50);
        let packed = compress(&text);
        assert_eq!(&packed[..3], &[0x1f, 0x8b, 8]);
        let body = &packed[10..packed.len() - 8];
        assert_eq!(miniz_oxide::inflate::decompress_to_vec(body).unwrap(), text);
        assert!(packed.len() < text.len() / 4);
    }
}
