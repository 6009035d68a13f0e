//! The payment port (DOMAIN.md §9: fees go through the national payment platform by an
//! adapter). A provider says who it is and where the citizen goes to pay; confirmation comes
//! back through the provider's callback. The built-in provider is a sandbox that pays at once
//! when the citizen presses its button, and says so on every page that shows it.

/// A payment provider.
pub trait PaymentProvider: Send + Sync {
    /// Stored in `payments.provider`.
    fn id(&self) -> &'static str;
    /// Whether no real money moves (pages must say so).
    fn is_sandbox(&self) -> bool;
    /// Where the citizen confirms a payment: a local form for the sandbox, the platform's
    /// checkout for a real provider.
    fn checkout_path(&self, reference: &str) -> String;
}

/// The built-in sandbox: confirmation is the citizen pressing "pay" on our own page.
pub struct Sandbox;

impl PaymentProvider for Sandbox {
    fn id(&self) -> &'static str {
        "sandbox"
    }
    fn is_sandbox(&self) -> bool {
        true
    }
    fn checkout_path(&self, reference: &str) -> String {
        format!("/cong-dan/thanh-toan/{reference}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_says_it_is_one() {
        let p: &dyn PaymentProvider = &Sandbox;
        assert!(p.is_sandbox());
        assert_eq!(p.id(), "sandbox");
        assert_eq!(p.checkout_path("abc"), "/cong-dan/thanh-toan/abc");
    }
}
