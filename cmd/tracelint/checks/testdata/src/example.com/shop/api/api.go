// Package api uses the company's keys; its importers see them through it.
package api

import "example.com/shop/keys"

func Order(id string) any { return keys.OrderID.String(id) }
