export { createLdapSource } from './ldap-source.js';
export { LdapSourceOptions } from '../../config/sources/ldap-options.js';
