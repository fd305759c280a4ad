// Only the ledger issues tokens: there is no public constructor and no public field.
use amanat::category::Biometric;
use amanat::ConsentToken;

fn forge(expires_at: i64) -> ConsentToken<Biometric> {
    ConsentToken {
        expires_at,
        category: std::marker::PhantomData,
    }
}

fn forge_by_constructor() -> ConsentToken<Biometric> {
    ConsentToken::new()
}

fn main() {}
