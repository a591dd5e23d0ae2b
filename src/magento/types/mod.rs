//! Request and response payloads of the Magento REST endpoints b1bridge calls. Money and
//! quantities are exact decimals; ids are read whether Magento sends numbers or strings.
mod catalog;
mod credit_memo;
mod inventory;
mod orders;
mod prices;

pub use catalog::{Product, TaxRate};
pub use credit_memo::{CreditMemo, CreditMemoExtension, CreditMemoItem};
pub use inventory::{
    SalableQuantity, Source, SourceItem, SourceItemStatus, StockItem, StockItemUpdate,
};
pub use orders::{OrderComment, RestOrder, ShipItem, ShipRequest, ShipTrack};
pub use prices::{BasePrice, PriceRowError, SpecialPrice, TierPrice, TierPriceType};
