//! Just enough DER to read a SubjectPublicKeyInfo (RFC 5280) and an RSAPublicKey
//! (RFC 8017): tag-length-value walking with definite lengths only.

/// DER tags used here.
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OID: u8 = 0x06;

/// Object identifiers, DER-encoded content bytes.
pub(crate) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
pub(crate) const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
pub(crate) const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// Splits one TLV off `input`: returns its tag, its content and the remaining bytes.
pub(crate) fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(count)?;
        let length = bytes
            .iter()
            .fold(0_usize, |acc, byte| (acc << 8) | usize::from(*byte));
        (length, rest)
    };
    let (content, rest) = rest.split_at_checked(length)?;
    Some((tag, content, rest))
}

/// Reads one TLV that must carry `expected` as its tag.
pub(crate) fn expect(input: &[u8], expected: u8) -> Option<(&[u8], &[u8])> {
    let (tag, content, rest) = read(input)?;
    (tag == expected).then_some((content, rest))
}

/// A parsed SubjectPublicKeyInfo.
pub(crate) struct SubjectPublicKeyInfo<'a> {
    pub(crate) algorithm: &'a [u8],
    pub(crate) parameter: Option<&'a [u8]>,
    pub(crate) public_key: &'a [u8],
}

/// Parses a SubjectPublicKeyInfo; the parameter is returned when it is an OID.
pub(crate) fn subject_public_key_info(der: &[u8]) -> Option<SubjectPublicKeyInfo<'_>> {
    let (spki, trailing) = expect(der, SEQUENCE)?;
    if !trailing.is_empty() {
        return None;
    }
    let (algorithm_identifier, rest) = expect(spki, SEQUENCE)?;
    let (algorithm, parameters) = expect(algorithm_identifier, OID)?;
    let parameter = expect(parameters, OID).map(|(oid, _)| oid);
    let (bits, rest) = expect(rest, BIT_STRING)?;
    if !rest.is_empty() {
        return None;
    }
    // The first content byte of a BIT STRING counts unused bits; keys use whole bytes.
    let (&unused, public_key) = bits.split_first()?;
    if unused != 0 {
        return None;
    }
    Some(SubjectPublicKeyInfo {
        algorithm,
        parameter,
        public_key,
    })
}

/// Returns the modulus and the public exponent of a PKCS#1 RSAPublicKey, as big-endian
/// bytes.
pub(crate) fn rsa_public_key(pkcs1: &[u8]) -> Option<(&[u8], &[u8])> {
    let (sequence, _) = expect(pkcs1, SEQUENCE)?;
    let (modulus, rest) = expect(sequence, INTEGER)?;
    let (exponent, _) = expect(rest, INTEGER)?;
    Some((modulus, exponent))
}

/// Returns the length in bits of a big-endian unsigned integer.
pub(crate) fn integer_bits(bytes: &[u8]) -> usize {
    let leading_zeros = bytes.iter().take_while(|byte| **byte == 0).count();
    let significant = bytes.get(leading_zeros..).unwrap_or_default();
    match significant.first() {
        Some(first) => significant.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}
