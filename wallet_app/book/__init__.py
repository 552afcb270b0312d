"""The address book: contacts, account labels, the active account and watch-only wallets.

Everything here is public data (addresses and the names a person gives them), kept in one
JSON file under the app's data folder (``addressbook.json``), written atomically under a
cross-process lock. No module here touches a key, the network or Qt:

==================  ==================================================================
``addresses``       address parsing: EIP-55 checksum or all-lowercase, named errors
``errors``          the named exceptions (exit codes 100-109)
``store``           the file: contacts, account labels, active account, watched wallets
``contacts_csv``    CSV import and export of contacts (every bad row named, nothing lost)
``receive``         the EIP-681 payment link and the QR code matrix / terminal drawing
==================  ==================================================================
"""
