// SPDX-FileCopyrightText: The go-mail Authors
//
// SPDX-License-Identifier: MIT

module github.com/wneessen/go-mail

go 1.25.0

require (
	golang.org/x/crypto v0.54.0
	golang.org/x/text v0.40.0
)
