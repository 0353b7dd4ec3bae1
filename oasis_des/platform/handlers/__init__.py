"""Action handlers, one mixin per domain; `Platform` combines them."""
