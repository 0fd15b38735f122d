/* placeholder for the resize suite */
int main(void) {
    return 0;
}
